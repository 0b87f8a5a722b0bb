//! The `geounify` command-line tool. STUB.
fn main() {}
