//! Metric kernels over plain slices. The Python layer (`mlflow_oxide.metrics`) owns argument
//! checking and scikit-learn's conventions; these kernels own the passes over millions of rows.

pub mod curve;
pub mod labels;
pub mod multiclass;
pub mod regression;
pub mod sort;
pub mod states;
pub(crate) mod sum;

#[cfg(test)]
mod tests;

/// Rows per unit of parallel work: large enough that rayon overhead vanishes, small enough
/// that Ctrl-C is noticed quickly and both cores stay busy.
pub const CHUNK: usize = 1 << 16;

/// A numeric input column of any width the binding hands over without copying.
pub trait Value: Copy + Send + Sync {
    fn f64(self) -> f64;
}

impl Value for f64 {
    #[inline]
    fn f64(self) -> f64 {
        self
    }
}

impl Value for f32 {
    #[inline]
    fn f64(self) -> f64 {
        self as f64
    }
}
