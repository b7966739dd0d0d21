//! Chapter 12: the SVG chart of a `compare` run, one panel per section of the table, one
//! horizontal bar per row (its median). Drawn with plotters' SVG backend and its built-in
//! text estimate (no font files), so the chart is the same wherever it is regenerated.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One bar: a row's median in its unit.
#[derive(Debug, Clone)]
pub struct Bar {
    pub name: String,
    pub value: f64,
    pub unit: String,
    /// Drawn in the floor's colour (the bare system calls).
    pub floor: bool,
}

/// One panel: a title, whether its axis is logarithmic, its bars.
#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub log: bool,
    pub bars: Vec<Bar>,
}

const RUST: RGBColor = RGBColor(0xb7, 0x41, 0x0e);
const FLOOR: RGBColor = RGBColor(0x88, 0x88, 0x88);

/// Write the chart of `panels` to `path` (SVG), with `title` and `subtitle` on top.
pub fn write_svg(path: &Path, title: &str, subtitle: &str, panels: &[Panel]) -> Result<(), String> {
    let panels: Vec<&Panel> = panels.iter().filter(|p| !p.bars.is_empty()).collect();
    let heights: Vec<u32> = panels
        .iter()
        .map(|p| 60 + 26 * p.bars.len() as u32)
        .collect();
    let height = 60 + heights.iter().sum::<u32>();
    let root = SVGBackend::new(path, (960, height)).into_drawing_area();
    draw(&root, title, subtitle, &panels, &heights).map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    subtitle: &str,
    panels: &[&Panel],
    heights: &[u32],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    root.draw_text(
        title,
        &("sans-serif", 20).into_font().color(&BLACK),
        (10, 8),
    )?;
    root.draw_text(
        subtitle,
        &("sans-serif", 13).into_font().color(&BLACK),
        (10, 34),
    )?;
    let mut rest = root.split_vertically(60).1;
    for (panel, &h) in panels.iter().zip(heights) {
        let (area, below) = rest.split_vertically(h);
        rest = below;
        let n = panel.bars.len();
        let max = panel.bars.iter().map(|b| b.value).fold(0.0f64, f64::max);
        let unit = panel.bars.first().map(|b| b.unit.as_str()).unwrap_or("");
        let caption = format!("{} ({unit})", panel.title);
        let label = ("sans-serif", 12).into_font().into_text_style(&area);
        let label = label.pos(Pos::new(HPos::Left, VPos::Center));
        let bar_style = |b: &Bar| {
            if b.floor {
                FLOOR.filled()
            } else {
                RUST.filled()
            }
        };
        let mut builder = ChartBuilder::on(&area);
        builder
            .caption(caption, ("sans-serif", 15))
            .margin(6)
            .margin_left(18)
            .x_label_area_size(22)
            .y_label_area_size(0);
        if panel.log {
            let min = panel
                .bars
                .iter()
                .map(|b| b.value)
                .fold(f64::INFINITY, f64::min)
                .max(1e-3);
            let lo = min / 2.0;
            let mut chart =
                builder.build_cartesian_2d((lo..max * 80.0).log_scale(), 0.0..n as f64)?;
            chart.configure_mesh().y_labels(0).disable_y_mesh().draw()?;
            for (i, b) in panel.bars.iter().enumerate() {
                let y = (n - 1 - i) as f64;
                chart.draw_series([Rectangle::new(
                    [(lo, y + 0.15), (b.value.max(lo), y + 0.85)],
                    bar_style(b),
                )])?;
                chart.draw_series([Text::new(
                    format!("{:.1}  {}", b.value, b.name),
                    (b.value.max(lo) * 1.05, y + 0.5),
                    label.clone(),
                )])?;
            }
        } else {
            let mut chart = builder.build_cartesian_2d(0.0..max * 2.4, 0.0..n as f64)?;
            chart.configure_mesh().y_labels(0).disable_y_mesh().draw()?;
            for (i, b) in panel.bars.iter().enumerate() {
                let y = (n - 1 - i) as f64;
                chart.draw_series([Rectangle::new(
                    [(0.0, y + 0.15), (b.value, y + 0.85)],
                    bar_style(b),
                )])?;
                chart.draw_series([Text::new(
                    format!("{:.1}  {}", b.value, b.name),
                    (b.value + max * 0.02, y + 0.5),
                    label.clone(),
                )])?;
            }
        }
    }
    Ok(())
}
