//! [`Ack`]: the handle a writer resolves once a batch has committed.

use super::StoreError;
use tokio::sync::oneshot;

/// The acknowledgement of one recorded [`Batch`](super::Batch).
///
/// It resolves to `Ok(())` only after the transaction holding the batch has committed
/// (for SQLite: written to the WAL, which survives the process being killed), or to the
/// error that stopped it. Dropping an `Ack` does not cancel the write.
#[derive(Debug)]
#[must_use = "a batch is durable only once its Ack resolves"]
pub struct Ack {
    rx: oneshot::Receiver<Result<(), StoreError>>,
}

/// The writer's end of an [`Ack`].
pub(crate) type AckSender = oneshot::Sender<Result<(), StoreError>>;

impl Ack {
    /// A pending ack and the sender that resolves it.
    pub(crate) fn pending() -> (AckSender, Ack) {
        let (tx, rx) = oneshot::channel();
        (tx, Ack { rx })
    }

    /// An ack that is already resolved, for stores that write synchronously.
    pub fn ready(result: Result<(), StoreError>) -> Ack {
        let (tx, ack) = Ack::pending();
        // The receiver is alive in `ack`, so this cannot fail.
        let _ = tx.send(result);
        ack
    }

    /// Blocks the current thread until the batch has committed.
    ///
    /// # Panics
    /// When called from within an asynchronous runtime (tokio forbids blocking there);
    /// use [`Ack::committed`] in async code.
    pub fn wait(self) -> Result<(), StoreError> {
        self.rx.blocking_recv().unwrap_or(Err(StoreError::WriterGone))
    }

    /// Waits, asynchronously, until the batch has committed.
    pub async fn committed(self) -> Result<(), StoreError> {
        self.rx.await.unwrap_or(Err(StoreError::WriterGone))
    }
}
