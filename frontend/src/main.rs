//! Entry point of the wasm binary that trunk builds; everything lives in the library.

fn main() {
    frontend::run();
}
