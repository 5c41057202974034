//! The SVG plot of `bench relevance`'s floor curve: recall@1 and recall@10 on
//! present products and the refusal rate on absent ones, against the floor,
//! with the default floor marked; drawn with `plotters` (SVG backend).

use crate::relevance::RelevanceReport;
use anyhow::{anyhow, Result};
use plotters::prelude::*;
use std::path::Path;

/// Plot size, pixels.
const SIZE: (u32, u32) = (960, 600);

/// Writes the floor curve of `r` to `path`.
pub fn relevance_svg(path: &Path, r: &RelevanceReport) -> Result<()> {
    let e = |e: &dyn std::fmt::Display| anyhow!("plotting {}: {e}", path.display());
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let max_floor = r.curve.iter().map(|p| p.floor).fold(0.0, f64::max).max(0.1);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "symbolon bench relevance: the relevance floor",
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..max_floor * 1.02, 0f64..1.02)
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc("relevance floor (least coverage of a real match)")
        .y_desc("share")
        .draw()
        .map_err(|x| e(&x))?;
    type Pick = fn(&crate::relevance::FloorPoint) -> f64;
    let series: [(&str, Pick, RGBColor); 3] = [
        (
            "recall@1, products present",
            |p| p.recall_at_1,
            RGBColor(31, 119, 180),
        ),
        (
            "recall@10, products present",
            |p| p.recall_at_10,
            RGBColor(44, 160, 44),
        ),
        (
            "absent products: nobody contacted",
            |p| p.refusal_rate,
            RGBColor(214, 39, 40),
        ),
    ];
    for (name, pick, colour) in series {
        let points: Vec<(f64, f64)> = r.curve.iter().map(|p| (p.floor, pick(p))).collect();
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
    let f = r.absent.floor;
    chart
        .draw_series(LineSeries::new([(f, 0.0), (f, 1.02)], BLACK.mix(0.4)))
        .map_err(|x| e(&x))?
        .label(format!("default floor {f}"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.4)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}
