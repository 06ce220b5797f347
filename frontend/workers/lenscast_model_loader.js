// Starts the segmentation engine's worker (the `lenscast_model` build), in place of trunk's
// loader shim. A module that fails to fetch or compile only rejects `wasm_bindgen`'s promise,
// which no event reports: the filter worker would wait out its load timeout. Thrown again
// from a task, it is an uncaught error, the worker's `error` event, reported at once.
importScripts("./lenscast_model.js");
wasm_bindgen("./lenscast_model_bg.wasm").catch((error) => setTimeout(() => { throw error; }));
