//! Compensated summation: results within an ulp or two of numpy's pairwise sums regardless of
//! how rows are split into chunks, so merged and parallel results match scikit-learn to 1e-12.

#[derive(Clone, Copy, Default, Debug)]
pub struct Sum {
    hi: f64,
    lo: f64,
}

impl Sum {
    #[inline]
    pub fn add(&mut self, x: f64) {
        // Neumaier's variant of Kahan summation.
        let t = self.hi + x;
        if self.hi.abs() >= x.abs() {
            self.lo += (self.hi - t) + x;
        } else {
            self.lo += (x - t) + self.hi;
        }
        self.hi = t;
    }

    pub fn merge(mut self, other: Sum) -> Sum {
        self.add(other.hi);
        self.add(other.lo);
        self
    }

    #[inline]
    pub fn value(&self) -> f64 {
        self.hi + self.lo
    }
}
