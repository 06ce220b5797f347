//! Load generator (placeholder until written).
fn main() {}
