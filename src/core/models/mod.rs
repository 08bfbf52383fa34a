//! The model loader's native parts: the MLmodel file, the content-addressed model cache, and
//! the data checks of input schema enforcement.
pub mod cache;
pub mod mlmodel;
pub mod schema;
