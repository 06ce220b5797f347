// Starts a frame worker (the `lenscast_worker` build); see lenscast_model_loader.js for why
// a failed module is thrown again: the page's overlay then says so at once.
importScripts("./lenscast_worker.js");
wasm_bindgen("./lenscast_worker_bg.wasm").catch((error) => setTimeout(() => { throw error; }));
