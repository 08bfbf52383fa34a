//! Drift statistics. Every test works on [`sample::Sample`]s, sorted once per column: raw data
//! or a baseline profile's sketch. The Python layer (`mlflow_oxide.drift`) owns scipy's
//! conventions, p-values and the table report; these kernels own the passes over the rows.

pub mod binned;
pub mod profile;
pub mod rank;
pub mod sample;
pub mod sketch;
pub mod two_sample;

#[cfg(test)]
mod tests;
