//! The `vitalcheck` command.
fn main() {}
