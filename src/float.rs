//! `f64` functions that give the same bits on every machine.
//!
//! The standard library's `sin`, `exp`, `ln`, `powf`, `powi` and the rest call the
//! platform's maths library (or an LLVM expansion), and their precision "is
//! non-deterministic: it varies by platform, Rust version, and can even differ within
//! the same execution" (the `f64` docs). Across a million random arguments glibc and
//! musl disagree in the last bit on 3% of sines and 10% of powers. dydx prints values
//! people keep in snapshots, and decides a few things from `f64` values (a witness's
//! agreement, a constant's sign), so it computes them here instead:
//! - the transcendental functions are CORE-MATH's (the `core-math` crate), which are
//!   correctly rounded: each result is the `f64` nearest the exact value at the `f64`
//!   argument, so it is one and the same on every machine and compiler, and never
//!   further from the truth than any other library's (`exp(1)` is 2.718281828459045,
//!   where musl's port gives 2.7182818284590455). It is C, built by the `cc` crate, so
//!   building dydx needs a C compiler of the GCC or Clang family;
//! - an integer power is multiplied out by squaring in one fixed order.
//!
//! Square roots, absolute values, sums, products, quotients and fused multiply-adds are
//! IEEE 754's correctly rounded operations and need no wrapper. `clippy.toml` disallows
//! the standard methods this module replaces, so a new call cannot slip back in.
//!
//! ```
//! use dydx::float;
//! assert_eq!(float::exp(1.0), std::f64::consts::E);
//! assert_eq!(float::sin(1.0), 0.8414709848078965);
//! assert_eq!(float::powi(3.0, -2), 1.0 / 9.0);
//! assert_eq!(float::ln(float::exp(2.0)), 2.0);
//! ```

/// The sine.
pub fn sin(x: f64) -> f64 {
    core_math::sin(x)
}

/// The cosine.
pub fn cos(x: f64) -> f64 {
    core_math::cos(x)
}

/// The tangent.
pub fn tan(x: f64) -> f64 {
    core_math::tan(x)
}

/// The inverse sine (not a number outside [-1, 1]).
pub fn asin(x: f64) -> f64 {
    core_math::asin(x)
}

/// The inverse cosine (not a number outside [-1, 1]).
pub fn acos(x: f64) -> f64 {
    core_math::acos(x)
}

/// The inverse tangent.
pub fn atan(x: f64) -> f64 {
    core_math::atan(x)
}

/// The hyperbolic sine.
pub fn sinh(x: f64) -> f64 {
    core_math::sinh(x)
}

/// The hyperbolic cosine.
pub fn cosh(x: f64) -> f64 {
    core_math::cosh(x)
}

/// The hyperbolic tangent.
pub fn tanh(x: f64) -> f64 {
    core_math::tanh(x)
}

/// The inverse hyperbolic sine.
pub fn asinh(x: f64) -> f64 {
    core_math::asinh(x)
}

/// The inverse hyperbolic cosine (not a number below 1).
pub fn acosh(x: f64) -> f64 {
    core_math::acosh(x)
}

/// The inverse hyperbolic tangent (infinite at ±1, not a number beyond).
pub fn atanh(x: f64) -> f64 {
    core_math::atanh(x)
}

/// The exponential.
pub fn exp(x: f64) -> f64 {
    core_math::exp(x)
}

/// The natural logarithm (-∞ at 0, not a number below).
pub fn ln(x: f64) -> f64 {
    core_math::log(x)
}

/// The logarithm to base 2.
pub fn log2(x: f64) -> f64 {
    core_math::log2(x)
}

/// The logarithm to base 10.
pub fn log10(x: f64) -> f64 {
    core_math::log10(x)
}

/// `x` to the power `y`, with C's `pow` conventions (`pow(x, 0)` is 1, a negative `x` to
/// a non-integer `y` is not a number).
pub fn powf(x: f64, y: f64) -> f64 {
    core_math::pow(x, y)
}

/// `x` to the integer power `n`, by squaring: each set bit of `|n|` multiplies the
/// running product by the current square, low bits first (the order of LLVM's
/// `__powidf2`, which `f64::powi` calls where it does not expand the power inline in an
/// order of its own). Up to about `|n|` roundings. A negative `n` divides 1 by that
/// power where the power is a normal number; where it overflows or is subnormal (`2^-1074`,
/// whose reciprocal power overflows), [`powf`] computes the power directly.
///
/// ```
/// use dydx::float::powi;
/// assert_eq!(powi(2.0, 10), 1024.0);
/// assert_eq!(powi(-2.0, 3), -8.0);
/// assert_eq!(powi(0.0, -1), f64::INFINITY);
/// assert_eq!(powi(5.0, 0), 1.0);
/// assert_eq!(powi(2.0, -1074), 5e-324);
/// ```
pub fn powi(x: f64, n: i32) -> f64 {
    let mut square = x;
    let mut bits = n.unsigned_abs();
    let mut product = 1.0;
    loop {
        if bits & 1 != 0 {
            product *= square;
        }
        bits >>= 1;
        if bits == 0 {
            break;
        }
        square *= square;
    }
    match n {
        0.. => product,
        _ if product.is_normal() => 1.0 / product,
        _ if product == 0.0 && x == 0.0 => 1.0 / product,
        _ => powf(x, f64::from(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_correctly_rounded() {
        // Each is the f64 nearest the exact value at the f64 argument (checked with
        // mpmath at 200 bits), which no other answer is: glibc and musl both give
        // ...f9 for tanh(0.3), and musl ...030a for ln(3).
        let cases: [(f64, u64); 7] = [
            (exp(1.0), 0x4005bf0a8b145769),
            (ln(3.0), 0x3ff193ea7aad030b),
            (sin(0.5), 0x3fdeaee8744b05f0),
            (tanh(0.3), 0x3fd2a4dda7d914fa),
            (atan(7.0), 0x3ff6dcc57bb565fd),
            (powf(2.5, 1.7), 0x4012fdcf53f3e6f3),
            (log10(1000.0), 0x4008000000000000),
        ];
        for (i, (value, bits)) in cases.into_iter().enumerate() {
            assert_eq!(value.to_bits(), bits, "case {i}: {value}");
        }
    }

    #[test]
    fn integer_powers_multiply_by_squaring() {
        let x = 1.1f64;
        // x^5 = x * (x^2)^2, in that order.
        let square = x * x;
        assert_eq!(powi(x, 5), x * (square * square));
        assert_eq!(powi(x, -5), 1.0 / (x * (square * square)));
        assert_eq!(powi(-1.0, i32::MIN), 1.0);
        assert_eq!(powi(2.0, 1024), f64::INFINITY);
        // Reciprocals of powers beyond the normal range are computed directly.
        assert_eq!(powi(2.0, -1074), f64::from_bits(1));
        assert_eq!(powi(0.5, -1024), f64::INFINITY);
        assert_eq!(powi(0.5, -1023), f64::from_bits(0x7fe0_0000_0000_0000));
    }
}
