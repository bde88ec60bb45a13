//! Plotting a function, its derivative and the tangent line at a point, as SVG.
//!
//! Behaviour of [`plot_svg`]:
//! - Three series: f, f′ and the tangent `f(a) + f′(a)·(x − a)`, with a legend, labelled
//!   axes, and the point `(a, f(a))` marked with its slope.
//! - Curves are sampled on a fixed grid; where a value is undefined, or jumps across a
//!   pole (a change larger than the whole visible height between two neighbours), the
//!   curve is broken instead of drawn across the gap.
//! - The vertical range comes from the central 90% of the sampled values (so a pole
//!   does not flatten everything else), widened to include the point.
//! - Deterministic: the same input gives the same bytes.

use crate::eval::{eval_f64, Point};
use crate::expr::{Expr, Rational};
use plotters::prelude::*;

/// What to plot.
pub struct PlotRequest<'a> {
    /// The function, as read: shown in the caption.
    pub f: &'a Expr,
    /// The function as written ([`crate::parse::parse_verbatim`]), whose curve is
    /// drawn: broken where the input is undefined (`exp(ln(x))` for x <= 0), though
    /// its read form (`x`) is not.
    pub written: &'a Expr,
    /// Its derivative with respect to `var`.
    pub derivative: &'a Expr,
    /// The variable on the horizontal axis.
    pub var: &'a str,
    /// The point of tangency, and the values of any other variables.
    pub at: Point,
    /// The horizontal range.
    pub range: (f64, f64),
    /// The slope as text (exact when rational).
    pub slope_text: String,
}

/// Number of samples per curve.
pub const SAMPLES: usize = 600;

fn sample(e: &Expr, req: &PlotRequest<'_>) -> Vec<(f64, Option<f64>)> {
    let (lo, hi) = req.range;
    (0..=SAMPLES)
        .map(|k| {
            let x = lo + (hi - lo) * k as f64 / SAMPLES as f64;
            let mut p = req.at.clone();
            let xr = Rational::from_float(x).unwrap_or_else(|| Rational::from_integer(0.into()));
            p.insert(req.var.to_string(), xr);
            (x, eval_f64(e, &p).ok().filter(|v| v.is_finite()))
        })
        .collect()
}

/// Splits samples into drawable segments: breaks at undefined values and at jumps
/// larger than `max_jump`.
fn segments(points: &[(f64, Option<f64>)], max_jump: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for &(x, y) in points {
        match y {
            Some(y) => {
                if let Some(&(_, prev)) = current.last() {
                    if (y - prev).abs() > max_jump {
                        out.push(std::mem::take(&mut current));
                    }
                }
                current.push((x, y));
            }
            None => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out.into_iter().filter(|s| s.len() > 1).collect()
}

/// Clips a polyline to `lo <= y <= hi`, cutting it where it leaves the band and adding
/// the crossing points, so nothing is drawn along the frame.
fn clip(line: &[(f64, f64)], lo: f64, hi: f64) -> Vec<Vec<(f64, f64)>> {
    let inside = |y: f64| (lo..=hi).contains(&y);
    let cross =
        |(x0, y0): (f64, f64), (x1, y1): (f64, f64), edge: f64| (x0 + (x1 - x0) * (edge - y0) / (y1 - y0), edge);
    let mut out = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for w in line.windows(2) {
        let (p, q) = (w[0], w[1]);
        match (inside(p.1), inside(q.1)) {
            (true, true) => {
                if current.is_empty() {
                    current.push(p);
                }
                current.push(q);
            }
            (true, false) => {
                if current.is_empty() {
                    current.push(p);
                }
                current.push(cross(p, q, if q.1 > hi { hi } else { lo }));
                out.push(std::mem::take(&mut current));
            }
            (false, true) => {
                current = vec![cross(p, q, if p.1 > hi { hi } else { lo }), q];
            }
            (false, false) => {
                // Passing straight through the band between two samples.
                if (p.1 > hi && q.1 < lo) || (p.1 < lo && q.1 > hi) {
                    out.push(vec![
                        cross(p, q, if p.1 > hi { hi } else { lo }),
                        cross(p, q, if q.1 > hi { hi } else { lo }),
                    ]);
                }
            }
        }
    }
    if current.len() > 1 {
        out.push(current);
    }
    out
}

/// The plot as an SVG document, or why it could not be drawn.
pub fn plot_svg(req: &PlotRequest<'_>) -> Result<String, String> {
    let a = num_traits::ToPrimitive::to_f64(req.at.get(req.var).ok_or("no point of tangency")?).unwrap_or(0.0);
    let fa = eval_f64(req.written, &req.at).map_err(|u| format!("f is undefined at the point: {u}"))?;
    let slope = eval_f64(req.derivative, &req.at).map_err(|u| format!("f' is undefined at the point: {u}"))?;
    let f_points = sample(req.written, req);
    let d_points = sample(req.derivative, req);
    // The vertical range: centred on the point, tall enough for the tangent to cross the
    // frame diagonally and for the middle half of f's values.
    let (lo, hi) = req.range;
    let mut ys: Vec<f64> = f_points.iter().filter_map(|p| p.1).collect();
    ys.sort_by(f64::total_cmp);
    let spread = if ys.len() >= 4 {
        ys[ys.len() * 3 / 4] - ys[ys.len() / 4]
    } else {
        0.0
    };
    let half = (slope.abs() * (hi - lo) / 2.0).max(spread).max(1.0) * 1.15;
    let (y_lo, y_hi) = (fa - half, fa + half);
    let tangent: Vec<(f64, f64)> = [lo, hi].iter().map(|&x| (x, fa + slope * (x - a))).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let caption = format!("f({}) = {}", req.var, req.f);
        let caption: String = caption.chars().take(90).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(lo..hi, y_lo..y_hi)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(req.var)
            .y_desc("y")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(|e| e.to_string())?;
        let max_jump = y_hi - y_lo;
        let f_style = ShapeStyle::from(&BLUE).stroke_width(2);
        let d_style = ShapeStyle::from(&RED).stroke_width(2);
        let t_style = ShapeStyle::from(&BLACK).stroke_width(1);
        for (k, seg) in segments(&f_points, max_jump)
            .into_iter()
            .flat_map(|s| clip(&s, y_lo, y_hi))
            .enumerate()
        {
            let series = chart
                .draw_series(LineSeries::new(seg, f_style))
                .map_err(|e| e.to_string())?;
            if k == 0 {
                series
                    .label(format!("f({})", req.var))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], f_style));
            }
        }
        for (k, seg) in segments(&d_points, max_jump)
            .into_iter()
            .flat_map(|s| clip(&s, y_lo, y_hi))
            .enumerate()
        {
            let series = chart
                .draw_series(LineSeries::new(seg, d_style))
                .map_err(|e| e.to_string())?;
            if k == 0 {
                series
                    .label(format!("f'({})", req.var))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], d_style));
            }
        }
        chart
            .draw_series(LineSeries::new(
                clip(&tangent, y_lo, y_hi).into_iter().flatten(),
                t_style,
            ))
            .map_err(|e| e.to_string())?
            .label(format!("tangent at {} = {}", req.var, crate::eval::format_f64(a)))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], t_style));
        chart
            .draw_series(std::iter::once(Circle::new(
                (a, fa),
                5,
                ShapeStyle::from(&BLACK).filled(),
            )))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("slope {}", req.slope_text),
                (a, fa),
                ("sans-serif", 15).into_font(),
            )))
            .map_err(|e| e.to_string())?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poles_break_the_curve() {
        let pts: Vec<(f64, Option<f64>)> = vec![
            (0.0, Some(1.0)),
            (1.0, Some(2.0)),
            (2.0, Some(1000.0)),
            (3.0, Some(-1000.0)),
            (4.0, Some(-999.0)),
        ];
        let s = segments(&pts, 100.0);
        assert_eq!(s.len(), 2);
        let gap: Vec<(f64, Option<f64>)> = vec![
            (0.0, Some(1.0)),
            (1.0, Some(1.0)),
            (2.0, None),
            (3.0, Some(1.0)),
            (4.0, Some(1.0)),
        ];
        assert_eq!(segments(&gap, 100.0).len(), 2);
    }
}
