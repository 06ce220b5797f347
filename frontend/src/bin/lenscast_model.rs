//! Entry point of the segmentation engine's wasm (trunk builds it as a worker): rten and the
//! `segment` crate, in their own module so that only a pipeline with a `segment-*` stage
//! downloads them. The filter worker starts it; see `frontend::worker::inference`.

fn main() {
    frontend::worker::inference::run();
}
