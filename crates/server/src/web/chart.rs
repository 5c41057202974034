//! Charts on the consoles (commission, reputation, sales over time), drawn on
//! the server as SVG by `plotters` and embedded in the page, with a table of
//! the same figures as their text equivalent (`templates/chart.html`).
//!
//! The SVG scales to its container (it has a `viewBox`; the stylesheet sets
//! its width), so one drawing serves phones and desktops; the drawing is
//! `role="img"` named by the caption, and the exact figures (money as
//! decimal strings, never the f64 drawing coordinates) are in the table.

use plotters::prelude::*;

/// The drawing's intrinsic size in pixels: small, so that scaled to a phone's
/// width its text stays legible.
const SIZE: (u32, u32) = (480, 270);

/// Most buckets a chart draws (the newest are kept): a chart of years of
/// daily figures would be unreadable and large.
pub const MAX_BUCKETS: usize = 60;

/// Most series on one chart.
pub const MAX_SERIES: usize = 4;

/// Colours of the series, in order: distinguishable and with at least 3:1
/// contrast against white.
const PALETTE: [RGBColor; MAX_SERIES] = [
    RGBColor(31, 111, 235),
    RGBColor(196, 69, 0),
    RGBColor(23, 101, 58),
    RGBColor(122, 60, 170),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A line through the buckets (rates).
    Line,
    /// Bars side by side per bucket (amounts).
    Bars,
}

/// One series: a value per bucket of the chart's `x`.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    /// Drawing coordinates only.
    pub values: Vec<f64>,
    /// The exact value per bucket as text (formatted money, a rate with its
    /// counts), for the table.
    pub labels: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Chart {
    /// The caption, and the drawing's accessible name.
    pub title: String,
    /// The unit of the values (the vertical axis).
    pub y_label: String,
    pub kind: Kind,
    /// The buckets' labels, oldest first (`2026-11`, `2026-12-05`).
    pub x: Vec<String>,
    pub series: Vec<Series>,
}

/// What `templates/chart.html` shows: the drawing and its table.
#[derive(Debug, Clone)]
pub struct ChartView {
    pub title: String,
    /// The drawing (plotters' SVG; every text in it escaped by plotters).
    /// Empty when there is nothing to draw.
    pub svg: String,
    /// The series' names: the table's column headers after the bucket's.
    pub columns: Vec<String>,
    /// Per bucket: its label and the series' values as text.
    pub rows: Vec<(String, Vec<String>)>,
}

impl ChartView {
    pub fn new(chart: &Chart) -> Self {
        let chart = chart.bounded();
        let svg = if chart.x.is_empty() || chart.series.is_empty() {
            String::new()
        } else {
            chart.draw().unwrap_or_else(|e| {
                tracing::warn!(error = %e, title = %chart.title, "chart not drawn");
                String::new()
            })
        };
        let rows = chart
            .x
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let cells = chart
                    .series
                    .iter()
                    .map(|s| s.labels.get(i).cloned().unwrap_or_default())
                    .collect();
                (x.clone(), cells)
            })
            .collect();
        Self {
            title: chart.title.clone(),
            svg,
            columns: chart.series.iter().map(|s| s.name.clone()).collect(),
            rows,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl Chart {
    /// The chart within [`MAX_BUCKETS`] (the newest) and [`MAX_SERIES`], every
    /// series as long as `x`.
    fn bounded(&self) -> Chart {
        let skip = self.x.len().saturating_sub(MAX_BUCKETS);
        let n = self.x.len() - skip;
        let fit = |v: &[f64]| -> Vec<f64> {
            (skip..skip + n)
                .map(|i| v.get(i).copied().filter(|f| f.is_finite()).unwrap_or(0.0))
                .collect()
        };
        let fit_labels = |v: &[String]| -> Vec<String> {
            (skip..skip + n)
                .map(|i| v.get(i).cloned().unwrap_or_default())
                .collect()
        };
        Chart {
            title: self.title.clone(),
            y_label: self.y_label.clone(),
            kind: self.kind,
            x: self.x[skip..].to_vec(),
            series: self
                .series
                .iter()
                .take(MAX_SERIES)
                .map(|s| Series {
                    name: s.name.clone(),
                    values: fit(&s.values),
                    labels: fit_labels(&s.labels),
                })
                .collect(),
        }
    }

    fn draw(&self) -> Result<String, String> {
        let e = |e: &dyn std::fmt::Display| e.to_string();
        let n = self.x.len();
        let top = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .fold(0.0f64, f64::max);
        let top = if top > 0.0 { top * 1.1 } else { 1.0 };
        let bottom = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .fold(0.0f64, f64::min)
            * 1.1;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            root.fill(&WHITE).map_err(|x| e(&x))?;
            let labels = self.x.clone();
            let mut chart = ChartBuilder::on(&root)
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(56)
                .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), bottom..top)
                .map_err(|x| e(&x))?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(RGBColor(235, 238, 243))
                .bold_line_style(RGBColor(201, 211, 227))
                .axis_style(RGBColor(85, 94, 107))
                .label_style(("sans-serif", 13).into_font().color(&RGBColor(51, 51, 51)))
                .x_labels(n.min(6))
                .x_label_formatter(&|v| {
                    let i = v.round();
                    if (v - i).abs() > 1e-6 || i < 0.0 {
                        return String::new();
                    }
                    labels.get(i as usize).cloned().unwrap_or_default()
                })
                .y_labels(5)
                .y_label_formatter(&|v| short_number(*v))
                .y_desc(self.y_label.as_str())
                .draw()
                .map_err(|x| e(&x))?;
            let k = self.series.len() as f64;
            for (si, s) in self.series.iter().enumerate() {
                let colour = PALETTE[si % PALETTE.len()];
                let drawn = match self.kind {
                    Kind::Line => {
                        let points: Vec<(f64, f64)> = s
                            .values
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (i as f64, *v))
                            .collect();
                        chart
                            .draw_series(points.iter().map(|p| Circle::new(*p, 3, colour.filled())))
                            .map_err(|x| e(&x))?;
                        chart
                            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                            .map_err(|x| e(&x))?
                    }
                    Kind::Bars => {
                        let width = 0.8 / k;
                        chart
                            .draw_series(s.values.iter().enumerate().map(|(i, v)| {
                                let x0 = i as f64 - 0.4 + width * si as f64;
                                Rectangle::new([(x0, 0.0), (x0 + width, *v)], colour.filled())
                            }))
                            .map_err(|x| e(&x))?
                    }
                };
                drawn.label(s.name.as_str()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                });
            }
            if self.series.len() > 1 {
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperLeft)
                    .label_font(("sans-serif", 13))
                    .background_style(WHITE.mix(0.85))
                    .border_style(RGBColor(201, 211, 227))
                    .draw()
                    .map_err(|x| e(&x))?;
            }
            root.present().map_err(|x| e(&x))?;
        }
        Ok(svg)
    }
}

/// An axis value in few characters: `950`, `12.5k`, `3.2M`; fractions of
/// one (rates) with two decimals.
fn short_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else if a >= 10_000.0 {
        format!("{:.0}k", v / 1_000.0)
    } else if a >= 1_000.0 {
        format!("{:.1}k", v / 1_000.0)
    } else if a > 0.0 && a < 1.0 {
        format!("{v:.2}")
    } else if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(kind: Kind, n: usize, series: usize) -> Chart {
        Chart {
            title: "Commission <by month>".into(),
            y_label: "USD".into(),
            kind,
            x: (0..n).map(|i| format!("2026-{:02}", i % 12 + 1)).collect(),
            series: (0..series)
                .map(|s| Series {
                    name: format!("series {s} & <more>"),
                    values: (0..n).map(|i| (i * (s + 1)) as f64 * 1.5).collect(),
                    labels: (0..n).map(|i| format!("${}.00", i * (s + 1))).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_chart_is_an_svg_that_scales_with_every_text_escaped() {
        for kind in [Kind::Line, Kind::Bars] {
            let v = ChartView::new(&chart(kind, 5, 2));
            assert!(
                v.svg.starts_with("<svg"),
                "{}",
                &v.svg[..40.min(v.svg.len())]
            );
            assert!(v.svg.contains("viewBox=\"0 0 480 270\""));
            assert!(v.svg.contains("2026-03"), "bucket labels drawn");
            assert!(
                v.svg.contains("series 1 &amp; &lt;more&gt;"),
                "legend escaped"
            );
            assert!(!v.svg.contains("<more>"));
            assert!(!v.svg.contains("style="), "no inline style (CSP)");
            assert_eq!(v.columns.len(), 2);
            assert_eq!(v.rows.len(), 5);
            assert_eq!(
                v.rows[4],
                ("2026-05".into(), vec!["$4.00".into(), "$8.00".into()])
            );
        }
        let bars = ChartView::new(&chart(Kind::Bars, 3, 1)).svg;
        assert!(bars.matches("<rect").count() >= 3, "a bar per bucket");
        let line = ChartView::new(&chart(Kind::Line, 3, 1)).svg;
        assert!(line.contains("<polyline"), "a line");
    }

    #[test]
    fn charts_are_bounded_and_survive_odd_input() {
        let v = ChartView::new(&chart(Kind::Bars, MAX_BUCKETS + 25, MAX_SERIES + 2));
        assert_eq!(v.rows.len(), MAX_BUCKETS);
        assert_eq!(v.columns.len(), MAX_SERIES);
        assert_eq!(
            v.rows[0].0,
            chart(Kind::Bars, 26, 1).x[25],
            "the newest kept"
        );
        let empty = ChartView::new(&chart(Kind::Line, 0, 1));
        assert!(empty.is_empty() && empty.svg.is_empty());
        let mut odd = chart(Kind::Line, 3, 1);
        odd.series[0].values = vec![f64::NAN, f64::INFINITY];
        odd.series[0].labels.clear();
        let v = ChartView::new(&odd);
        assert!(v.svg.starts_with("<svg") && !v.svg.contains("NaN"));
        assert_eq!(v.rows[2].1, vec![String::new()]);
        let flat = Chart {
            series: vec![Series {
                name: "zero".into(),
                values: vec![0.0; 4],
                labels: vec!["0".into(); 4],
            }],
            ..chart(Kind::Bars, 4, 0)
        };
        assert!(ChartView::new(&flat).svg.starts_with("<svg"));
    }

    #[test]
    fn axis_numbers_are_short() {
        assert_eq!(short_number(950.0), "950");
        assert_eq!(short_number(1_250.0), "1.2k");
        assert_eq!(short_number(12_500.0), "12k");
        assert_eq!(short_number(3_200_000.0), "3.2M");
        assert_eq!(short_number(0.85), "0.85");
        assert_eq!(short_number(2.5), "2.5");
        assert_eq!(short_number(0.0), "0");
    }
}
