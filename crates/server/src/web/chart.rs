//! TEMPORARY stand-in for the lead's `web::chart` (same public API, no
//! drawing) so the holder console compiles before `main` has it; replaced
//! by main's file at the merge.

#![allow(dead_code)]

pub const MAX_BUCKETS: usize = 60;
pub const MAX_SERIES: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Line,
    Bars,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    pub y_label: String,
    pub kind: Kind,
    pub x: Vec<String>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone)]
pub struct ChartView {
    pub title: String,
    pub svg: String,
    pub columns: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
}

impl ChartView {
    pub fn new(chart: &Chart) -> Self {
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
            svg: "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>".to_string(),
            columns: chart.series.iter().map(|s| s.name.clone()).collect(),
            rows,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}
