//! Small dense linear least squares: min ‖A·x − b‖ by Householder QR of the column-equilibrated
//! design matrix, with a condition check.
//!
//! Each column of A is first divided by its Euclidean norm (equilibration), so that columns of
//! metres (translations) and of kilometres (coordinate differences multiplying a scale or a
//! rotation) weigh the same; A·D = Q·R is then factored by Householder reflections, which never
//! forms AᵀA and so keeps the condition number at cond(A·D) instead of its square. The ratio
//! max|Rⱼⱼ| / min|Rⱼⱼ| estimates cond(A·D) from below; above [`MAX_CONDITION`] the system is
//! refused as singular (collinear or coincident points).

/// Largest accepted estimate of the condition number of the equilibrated design matrix. With
/// f64 (ε ≈ 2.2e-16) a condition of 1e10 still leaves about six significant digits in the
/// least-determined parameter; anything larger means the points do not determine the model.
pub(crate) const MAX_CONDITION: f64 = 1e10;

/// A least-squares solution.
#[derive(Debug, Clone)]
pub(crate) struct Solution {
    /// The parameters, in the units of the columns of A.
    pub x: Vec<f64>,
    /// A p×p matrix L (row-major) with (AᵀA)⁻¹ = L·Lᵀ: L = D·R⁻¹. The covariance of `x` is
    /// σ0²·L·Lᵀ.
    pub l: Vec<f64>,
    /// Leverage hᵢ = aᵢ·(AᵀA)⁻¹·aᵢᵀ of each observation (row); its redundancy number is 1 − hᵢ.
    pub leverage: Vec<f64>,
    /// The estimate max|Rⱼⱼ| / min|Rⱼⱼ| of the condition number of the equilibrated matrix.
    pub condition: f64,
}

/// The system is singular or too badly conditioned to solve (see [`MAX_CONDITION`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Singular;

/// Solves min ‖A·x − b‖ for A with `p` columns given row-major in `a` (n = a.len() / p rows),
/// n ≥ p. Fails with [`Singular`] when a column is zero or non-finite, or the condition estimate
/// exceeds [`MAX_CONDITION`]; never returns NaN.
pub(crate) fn solve(a: &[f64], b: &[f64], p: usize) -> Result<Solution, Singular> {
    let n = b.len();
    if p == 0 || a.len() != n * p || n < p {
        return Err(Singular);
    }
    if !a.iter().chain(b).all(|v| v.is_finite()) {
        return Err(Singular);
    }
    // Equilibrate: D = diag(1 / ‖column j‖).
    let mut d = vec![0.0; p];
    for (j, dj) in d.iter_mut().enumerate() {
        let norm = (0..n).map(|i| a[i * p + j]).fold(0.0_f64, |acc, v| acc.hypot(v));
        if !(norm > 0.0 && norm.is_finite()) {
            return Err(Singular);
        }
        *dj = 1.0 / norm;
    }
    let scaled: Vec<f64> = (0..n * p).map(|k| a[k] * d[k % p]).collect();
    let mut r = scaled.clone();
    let mut qtb = b.to_vec();
    // Householder QR in place: after step k, column k is zero below the diagonal.
    let mut diag = vec![0.0; p];
    for k in 0..p {
        let norm = (k..n).map(|i| r[i * p + k]).fold(0.0_f64, |acc, v| acc.hypot(v));
        if norm == 0.0 {
            return Err(Singular);
        }
        let alpha = if r[k * p + k] > 0.0 { -norm } else { norm };
        // v = x − α·e₁, stored in a scratch vector.
        let mut v: Vec<f64> = (k..n).map(|i| r[i * p + k]).collect();
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|x| x * x).sum();
        if vv > 0.0 {
            for j in k..p {
                let dot: f64 = (k..n).zip(&v).map(|(i, vi)| vi * r[i * p + j]).sum();
                let f = 2.0 * dot / vv;
                for (i, vi) in (k..n).zip(&v) {
                    r[i * p + j] -= f * vi;
                }
            }
            let dot: f64 = (k..n).zip(&v).map(|(i, vi)| vi * qtb[i]).sum();
            let f = 2.0 * dot / vv;
            for (i, vi) in (k..n).zip(&v) {
                qtb[i] -= f * vi;
            }
        }
        diag[k] = r[k * p + k];
    }
    let max = diag.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let min = diag.iter().fold(f64::INFINITY, |m, v| m.min(v.abs()));
    let condition = max / min;
    if !(condition.is_finite() && condition <= MAX_CONDITION) {
        return Err(Singular);
    }
    // R·y = (Qᵀb)[..p], then x = D·y.
    let mut y = vec![0.0; p];
    for k in (0..p).rev() {
        let s: f64 = ((k + 1)..p).map(|j| r[k * p + j] * y[j]).sum();
        y[k] = (qtb[k] - s) / r[k * p + k];
    }
    let x: Vec<f64> = y.iter().zip(&d).map(|(yi, di)| yi * di).collect();
    // R⁻¹ (upper triangular), column by column: R·cⱼ = eⱼ.
    let mut rinv = vec![0.0; p * p];
    for j in 0..p {
        for k in (0..=j).rev() {
            let e = if k == j { 1.0 } else { 0.0 };
            let s: f64 = ((k + 1)..=j).map(|m| r[k * p + m] * rinv[m * p + j]).sum();
            rinv[k * p + j] = (e - s) / r[k * p + k];
        }
    }
    // L = D·R⁻¹ (so that (AᵀA)⁻¹ = D (R'ᵀR')⁻¹ D = L·Lᵀ).
    let l: Vec<f64> = (0..p * p).map(|k| rinv[k] * d[k / p]).collect();
    // hᵢ = ‖a'ᵢ·R'⁻¹‖² with a'ᵢ the equilibrated row.
    let leverage: Vec<f64> = (0..n)
        .map(|i| {
            (0..p)
                .map(|j| (0..=j).map(|k| scaled[i * p + k] * rinv[k * p + j]).sum::<f64>())
                .map(|v| v * v)
                .sum()
        })
        .collect();
    if !x.iter().chain(&l).chain(&leverage).all(|v| v.is_finite()) {
        return Err(Singular);
    }
    Ok(Solution { x, l, leverage, condition })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_a_line_exactly_and_reports_leverage() {
        // y = 2 + 3t at t = 0, 1, 2, 3: exact solution, leverages sum to the number of
        // parameters (the trace of the hat matrix).
        let a = [1.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0];
        let b = [2.0, 5.0, 8.0, 11.0];
        let s = solve(&a, &b, 2).unwrap();
        assert!((s.x[0] - 2.0).abs() < 1e-14 && (s.x[1] - 3.0).abs() < 1e-14, "{:?}", s.x);
        let trace: f64 = s.leverage.iter().sum();
        assert!((trace - 2.0).abs() < 1e-14);
        // Textbook leverage of the end point of 4 equally spaced points: 1/4 + 2.25/5 = 0.7.
        assert!((s.leverage[0] - 0.7).abs() < 1e-14);
        // (AᵀA)⁻¹ = [[7/10, -3/10], [-3/10, 1/5]]; L·Lᵀ reproduces it.
        let l = &s.l;
        let m00 = l[0] * l[0] + l[1] * l[1];
        let m01 = l[0] * l[2] + l[1] * l[3];
        let m11 = l[2] * l[2] + l[3] * l[3];
        assert!((m00 - 0.7).abs() < 1e-14 && (m01 + 0.3).abs() < 1e-14);
        assert!((m11 - 0.2).abs() < 1e-14);
    }

    #[test]
    fn dependent_columns_are_singular() {
        let a = [1.0, 2.0, 1.0, 2.0, 1.0, 2.0];
        assert_eq!(solve(&a, &[1.0, 2.0, 3.0], 2).unwrap_err(), Singular);
        let a = [1.0, f64::NAN, 1.0, 2.0];
        assert_eq!(solve(&a, &[1.0, 2.0], 2).unwrap_err(), Singular);
        assert_eq!(solve(&[0.0, 0.0], &[1.0, 2.0], 1).unwrap_err(), Singular);
    }
}
