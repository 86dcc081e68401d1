//! Price series → SVG step charts, drawn with plotters' SVG backend.
//!
//! Prices change by decision, so each series is a step line: a value holds until the
//! next decision. Charts theme themselves (light and dark) with an embedded stylesheet,
//! carry `<title>`/`<desc>` for assistive technology, and stay lean: points that
//! cannot be seen at the chart's resolution are dropped before drawing.

use chrono::{Datelike, NaiveDate};
use plotters::prelude::*;

/// One line on a chart.
pub(crate) struct ChartSeries<'a> {
    pub(crate) label: &'a str,
    /// `#rrggbb`
    pub(crate) colour: &'a str,
    /// Decisions in date order.
    pub(crate) points: Vec<(NaiveDate, f64)>,
}

/// Everything a chart shows; `render_step_chart` turns it into an SVG document.
pub(crate) struct ChartSpec<'a> {
    pub(crate) title: &'a str,
    pub(crate) description: &'a str,
    /// Axis caption such as `Rs/litre`.
    pub(crate) unit: &'a str,
    pub(crate) series: Vec<ChartSeries<'a>>,
    pub(crate) size: ChartSize,
}

/// A wide chart for desktops and a narrow one, with larger type, for phones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChartSize {
    Wide,
    Narrow,
}

impl ChartSize {
    fn pixels(self) -> (u32, u32) {
        match self {
            ChartSize::Wide => (960, 420),
            ChartSize::Narrow => (480, 400),
        }
    }
    fn font(self) -> f64 {
        // plotters divides by 1.24 when writing; these give ~14 px and ~17 px type.
        match self {
            ChartSize::Wide => 17.5,
            ChartSize::Narrow => 21.0,
        }
    }
    fn x_labels(self) -> usize {
        match self {
            ChartSize::Wide => 12,
            ChartSize::Narrow => 6,
        }
    }
}

// Sentinel colours plotters writes as attributes; the stylesheet below gives them
// theme-aware values (attribute selectors beat presentation attributes).
const INK: RGBColor = RGBColor(1, 1, 1);
const GRID: RGBColor = RGBColor(2, 2, 2);
const STYLE: &str = "<style>\
text{fill:#3b3f45;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\
[stroke=\"#010101\"]{stroke:#6b717a}[stroke=\"#020202\"]{stroke:#e3e6ea}\
[fill=\"#010101\"]{fill:#3b3f45}\
@media (prefers-color-scheme:dark){text,[fill=\"#010101\"]{fill:#d3d7dc}\
[stroke=\"#010101\"]{stroke:#8a9099}[stroke=\"#020202\"]{stroke:#30353c}}\
</style>";

/// Fractional year of a date (2004-07-02 → ~2004.5), the chart's x coordinate.
fn year_fraction(d: NaiveDate) -> f64 {
    let days = if d.leap_year() { 366.0 } else { 365.0 };
    d.year() as f64 + (d.ordinal0() as f64) / days
}

fn date_of_fraction(x: f64) -> NaiveDate {
    let year = x.floor() as i32;
    let days = if NaiveDate::from_ymd_opt(year, 12, 31).is_some_and(|d| d.leap_year()) {
        366.0
    } else {
        365.0
    };
    let ordinal = ((x - year as f64) * days).round() as u32 + 1;
    NaiveDate::from_yo_opt(year, ordinal.min(days as u32))
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(year, 1, 1).expect("valid year"))
}

/// A round number ≥ `max` for the top of the value axis.
fn nice_ceiling(max: f64) -> f64 {
    // Prices are bounded far below this (see `price`); the cap keeps the axis finite
    // whatever a caller passes, as an infinite axis never finishes drawing.
    if max.is_nan() || max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let max = max.min(1e15);
    let magnitude = 10f64.powf(max.log10().floor());
    let step = magnitude / 2.0;
    ((max * 1.05) / step).ceil() * step
}

/// Renders the chart as a standalone SVG document.
pub(crate) fn render_step_chart(spec: &ChartSpec) -> String {
    let (width, height) = spec.size.pixels();
    let font = spec.size.font();
    let dates = spec
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0));
    let (Some(first), Some(last)) = (dates.clone().min(), dates.max()) else {
        return finish(String::new(), spec);
    };
    let x_start = year_fraction(first).floor();
    // The last decision still holds: extend every line a little past it.
    let span = (year_fraction(last) - x_start).max(0.25);
    let x_end = year_fraction(last) + span * 0.03;
    let y_max = nice_ceiling(
        spec.series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0.0, f64::max),
    );
    let label_style = ("sans-serif", font).into_font().color(&INK);
    let whole_years = span >= 3.0;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let legend_height = (font * 1.6) as u32;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(legend_height + 6)
            .margin_right(16)
            .margin_left(8)
            .margin_bottom(4)
            .x_label_area_size((font * 1.9) as u32)
            .y_label_area_size((font * 3.4) as u32)
            .build_cartesian_2d(x_start..x_end, 0.0..y_max)
            .expect("chart ranges are finite and non-empty");
        let x_format = |x: &f64| {
            if whole_years {
                format!("{:.0}", x.round())
            } else {
                date_of_fraction(*x).format("%b %Y").to_string()
            }
        };
        let y_format = |y: &f64| format!("{y:.0}");
        chart
            .configure_mesh()
            .x_max_light_lines(0)
            .y_max_light_lines(0)
            .disable_x_mesh()
            .bold_line_style(GRID)
            .axis_style(INK)
            .x_labels(spec.size.x_labels())
            .y_labels(6)
            .x_label_formatter(&x_format)
            .y_label_formatter(&y_format)
            .y_desc(spec.unit)
            .label_style(label_style.clone())
            .axis_desc_style(label_style.clone())
            .draw()
            .expect("drawing into a String cannot fail");

        for series in &spec.series {
            let colour = parse_colour(series.colour);
            let steps = step_points(&series.points, x_end);
            let pixels: Vec<(i32, i32)> = steps.iter().map(|p| chart.backend_coord(p)).collect();
            let kept: Vec<(f64, f64)> = simplify(&pixels).into_iter().map(|i| steps[i]).collect();
            chart
                .draw_series(LineSeries::new(kept, colour.stroke_width(3)))
                .expect("drawing into a String cannot fail");
        }

        // A legend above the plot: swatch and label per series, left to right.
        let mut x = (font * 3.6) as i32;
        let y = (font * 0.9) as i32;
        for series in &spec.series {
            let colour = parse_colour(series.colour);
            root.draw(&PathElement::new(
                vec![(x, y), (x + 22, y)],
                colour.stroke_width(4),
            ))
            .expect("drawing into a String cannot fail");
            root.draw(&Text::new(
                series.label.to_string(),
                (x + 28, y - (font * 0.42) as i32),
                label_style.clone(),
            ))
            .expect("drawing into a String cannot fail");
            x += 28 + (series.label.chars().count() as f64 * font * 0.52) as i32 + 28;
        }
        root.present().expect("drawing into a String cannot fail");
    }
    finish(svg, spec)
}

/// Corner points of a step line: each value runs flat until the next decision.
fn step_points(points: &[(NaiveDate, f64)], x_end: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2 + 1);
    for (i, &(date, value)) in points.iter().enumerate() {
        let x = year_fraction(date);
        if i > 0 {
            out.push((x, points[i - 1].1));
        }
        out.push((x, value));
    }
    if let Some(&(_, value)) = points.last() {
        out.push((x_end, value));
    }
    out
}

/// Indices of the pixel points worth drawing. Within one pixel column only the first,
/// lowest, highest and last points can be seen; along a flat or vertical run only the
/// ends. A series of 100,000 decisions draws as a few thousand points at most.
fn simplify(pixels: &[(i32, i32)]) -> Vec<usize> {
    let mut columns: Vec<usize> = Vec::with_capacity(pixels.len().min(8192));
    let mut i = 0;
    while i < pixels.len() {
        let mut j = i;
        while j + 1 < pixels.len() && pixels[j + 1].0 == pixels[i].0 {
            j += 1;
        }
        let run = i..=j;
        let lowest = run
            .clone()
            .max_by_key(|&k| pixels[k].1)
            .expect("non-empty run");
        let highest = run
            .clone()
            .min_by_key(|&k| pixels[k].1)
            .expect("non-empty run");
        let mut picks = [i, lowest.min(highest), lowest.max(highest), j];
        picks.sort_unstable();
        for k in picks {
            if columns.last() != Some(&k) && columns.last().is_none_or(|&l| pixels[l] != pixels[k])
            {
                columns.push(k);
            }
        }
        i = j + 1;
    }
    // Drop middle points of straight horizontal or vertical runs.
    let mut kept: Vec<usize> = Vec::with_capacity(columns.len());
    for &k in &columns {
        if kept.len() >= 2 {
            let (a, b, c) = (
                pixels[kept[kept.len() - 2]],
                pixels[kept[kept.len() - 1]],
                pixels[k],
            );
            let flat = a.1 == b.1 && b.1 == c.1;
            let upright = a.0 == b.0 && b.0 == c.0 && (a.1 <= b.1) == (b.1 <= c.1);
            if flat || upright {
                kept.pop();
            }
        }
        kept.push(k);
    }
    kept
}

fn parse_colour(hex: &str) -> RGBColor {
    let channel =
        |i: usize| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("80"), 16).unwrap_or(128);
    RGBColor(channel(1), channel(3), channel(5))
}

/// Adds title, description and stylesheet, and trims what plotters writes needlessly.
fn finish(svg: String, spec: &ChartSpec) -> String {
    let (width, height) = spec.size.pixels();
    let body = svg.split_once('\n').map_or("", |(_, rest)| rest);
    let body = body
        .replace(" opacity=\"1\"", "")
        .replace("\n</text>", "</text>")
        .replace(">\n", ">");
    let body = round_font_sizes(&body);
    let mut out = String::with_capacity(body.len() + 1024);
    out.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"t d\">\n<title id=\"t\">{}</title>\n<desc id=\"d\">{}</desc>\n{STYLE}\n",
        crate::markup::escape_markup(spec.title),
        crate::markup::escape_markup(spec.description)
    ));
    out.push_str(&body);
    if !out.ends_with("</svg>\n") {
        if !out.ends_with("</svg>") {
            out.push_str("</svg>");
        }
        out.push('\n');
    }
    out
}

fn round_font_sizes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("font-size=\"") {
        let start = i + "font-size=\"".len();
        out.push_str(&rest[..start]);
        let end = rest[start..].find('"').map_or(rest.len(), |e| start + e);
        let size: f64 = rest[start..end].parse().unwrap_or(14.0);
        out.push_str(&format!("{}", size.round()));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::data::parse_date(s).unwrap()
    }

    #[test]
    fn simplify_keeps_column_extremes_and_drops_flat_middles() {
        let pts = [
            (0, 5),
            (1, 5),
            (2, 5),
            (3, 5),
            (3, 1),
            (3, 9),
            (3, 4),
            (4, 4),
        ];
        let kept = simplify(&pts);
        let kept: Vec<_> = kept.iter().map(|&i| pts[i]).collect();
        assert_eq!(kept, [(0, 5), (3, 5), (3, 1), (3, 9), (3, 4), (4, 4)]);
    }

    #[test]
    fn chart_has_title_desc_steps_and_no_redundant_points() {
        let points: Vec<_> = (0..5000)
            .map(|i| {
                (
                    d("2004-01-01") + chrono::Days::new(i),
                    if i % 2 == 0 { 20.0 } else { 40.0 },
                )
            })
            .collect();
        let svg = render_step_chart(&ChartSpec {
            title: "T & t",
            description: "D",
            unit: "Rs/litre",
            series: vec![ChartSeries {
                label: "Mogas",
                colour: "#e8590c",
                points,
            }],
            size: ChartSize::Wide,
        });
        assert!(svg.contains("<title id=\"t\">T &amp; t</title>"));
        assert!(svg.contains("Mogas"));
        let line = svg
            .lines()
            .find(|l| l.contains("stroke=\"#E8590C\"") && l.contains("points"))
            .unwrap();
        let n = line.matches(',').count();
        assert!(n < 4 * 960, "{n} points for a 960 px chart");
        assert!(svg.len() < 60_000, "{} bytes", svg.len());
    }
}
