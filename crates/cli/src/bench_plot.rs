//! The SVG plot of `bench load`: latency (log scale, ms) against offered
//! rate, one series per percentile of `POST /v1/demands` and of demand sent →
//! 2nd offer, drawn with `plotters` (SVG backend).

use crate::bench_load::{Step, SUSTAINABLE_P99_MS};
use anyhow::{anyhow, Result};
use plotters::prelude::*;
use std::path::Path;

/// Plot size, pixels.
const SIZE: (u32, u32) = (960, 600);

/// Writes the plot of `steps` to `path`.
pub(crate) fn write_svg(path: &Path, steps: &[Step]) -> Result<()> {
    let e = |e: &dyn std::fmt::Display| anyhow!("plotting: {e}");
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let max_rate = steps.iter().map(|s| s.offered_rate).max().unwrap_or(1) as f64;
    let lat = |s: &Step| {
        [
            s.post.p50_ms,
            s.post.p99_ms,
            s.post.p999_ms,
            s.second_offer.p50_ms,
            s.second_offer.p99_ms,
            s.second_offer.p999_ms,
        ]
    };
    let top = steps
        .iter()
        .flat_map(lat)
        .fold(SUSTAINABLE_P99_MS, f64::max)
        * 2.0;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "symbolon bench load: latency against offered rate",
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..max_rate * 1.05, (0.1f64..top).log_scale())
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc("offered rate (demands/s)")
        .y_desc("latency (ms, log scale)")
        .draw()
        .map_err(|x| e(&x))?;
    type Pick = fn(&Step) -> f64;
    let series: [(&str, Pick, RGBColor); 6] = [
        ("POST p50", |s| s.post.p50_ms, RGBColor(31, 119, 180)),
        ("POST p99", |s| s.post.p99_ms, RGBColor(44, 160, 44)),
        ("POST p99.9", |s| s.post.p999_ms, RGBColor(148, 103, 189)),
        (
            "2nd offer p50",
            |s| s.second_offer.p50_ms,
            RGBColor(255, 127, 14),
        ),
        (
            "2nd offer p99",
            |s| s.second_offer.p99_ms,
            RGBColor(214, 39, 40),
        ),
        (
            "2nd offer p99.9",
            |s| s.second_offer.p999_ms,
            RGBColor(140, 86, 75),
        ),
    ];
    for (name, pick, colour) in series {
        let points: Vec<(f64, f64)> = steps
            .iter()
            .map(|s| (f64::from(s.offered_rate), pick(s).max(0.1)))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
            .map_err(|x| e(&x))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, colour.filled())),
            )
            .map_err(|x| e(&x))?;
    }
    chart
        .draw_series(LineSeries::new(
            [
                (0.0, SUSTAINABLE_P99_MS),
                (max_rate * 1.05, SUSTAINABLE_P99_MS),
            ],
            BLACK.mix(0.4),
        ))
        .map_err(|x| e(&x))?
        .label("100 ms (sustainable p99)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.4)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}
