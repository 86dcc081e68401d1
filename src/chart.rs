//! Price series → SVG step charts.
//!
//! Prices change by decision, so each series is a step line: a value holds until the
//! next decision, and the time axis ends at the last one. A chart is read without
//! colour (each series has its own dash pattern and marker, shown in the legend), to
//! about one fifth of a labelled step (light minor gridlines), and its last values are
//! written at the line ends. Every step carries a native `<title>` tooltip with its date
//! and exact value, and events are drawn as labelled vertical markers.
//!
//! The SVG is written by hand rather than with a plotting crate: it is a few paths and
//! texts, and what it needs (`<title>` per element, dash arrays, CSS classes for the
//! light and dark themes, compact `H`/`V` path commands) is beyond plotters' backend.
//! Any number of points draws in a bounded size: per pixel column only the first,
//! lowest, highest and last points are kept, so every spike and record stays drawn.

use std::fmt::Write as _;

use chrono::{Datelike, Months, NaiveDate};

use crate::markup::escape_markup;

/// One line on a chart.
pub(crate) struct ChartSeries<'a> {
    pub(crate) label: &'a str,
    /// `#rrggbb`
    pub(crate) colour: &'a str,
    /// Decisions in date order, for drawing only. The first may be dated before the
    /// chart's start: its value is the one in force when the chart begins.
    pub(crate) points: Vec<(NaiveDate, f64)>,
    /// The exact text of point `i`'s value (`Rs 71.25`), from the price type.
    pub(crate) value_text: &'a (dyn Fn(usize) -> String + Sync),
}

/// A labelled vertical marker.
pub(crate) struct ChartEvent<'a> {
    pub(crate) date: NaiveDate,
    pub(crate) label: &'a str,
    pub(crate) source: &'a str,
}

/// Everything a chart shows; `render_step_chart` turns it into an SVG document.
pub(crate) struct ChartSpec<'a> {
    pub(crate) title: &'a str,
    pub(crate) description: &'a str,
    /// Axis caption such as `Rs/litre`.
    pub(crate) unit: &'a str,
    pub(crate) series: Vec<ChartSeries<'a>>,
    /// Drawn when their date falls within `start..=end`.
    pub(crate) events: Vec<ChartEvent<'a>>,
    /// The time axis: from `start` to `end` (the last decision).
    pub(crate) start: NaiveDate,
    pub(crate) end: NaiveDate,
    pub(crate) size: ChartSize,
}

/// A wide chart for desktops and a narrow one, with larger type, for phones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ChartSize {
    Wide,
    Narrow,
}

impl ChartSize {
    fn pixels(self) -> (u32, u32) {
        match self {
            ChartSize::Wide => (960, 440),
            ChartSize::Narrow => (480, 480),
        }
    }
    fn font(self) -> f64 {
        match self {
            ChartSize::Wide => 14.0,
            ChartSize::Narrow => 18.0,
        }
    }
    fn x_labels(self) -> usize {
        match self {
            ChartSize::Wide => 12,
            ChartSize::Narrow => 5,
        }
    }
}

/// Tooltips per decision up to this many in one series; beyond, only the lowest,
/// highest and last decision get one, which keeps a huge dataset's chart small.
const MAX_TIPS: usize = 400;

/// Dash pattern per series (solid, dashed, dotted, dash-dot), repeated past four.
const DASHES: [&str; 4] = ["", "9 5", "2 4", "12 4 2 4"];
/// Marker per series: round dots, squares; none for the others (dashes tell them).
const CAPS: [&str; 2] = ["round", "square"];

const STYLE: &str = "<style>\
text{fill:#3b3f45;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\
.ax{stroke:#6b717a}.g1{stroke:#cfd4da}.g2{stroke:#eceef1}\
.ev{stroke:#868e96;stroke-dasharray:3 3}.tip{fill:transparent}.tip:hover{fill:#8882}\
@media (prefers-color-scheme:dark){text{fill:#d3d7dc}.ax{stroke:#8a9099}\
.g1{stroke:#4a5058}.g2{stroke:#2b3036}.ev{stroke:#9aa1a9}}\
</style>";

fn day(d: NaiveDate) -> f64 {
    d.num_days_from_ce() as f64
}

/// `2 Apr 2004`
fn date_text(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// A round step (1, 2 or 5 × 10ⁿ) giving about `target` intervals over `range`.
fn nice_step(range: f64, target: f64) -> f64 {
    let raw = (range / target).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// Minor gridlines between two labelled ones: fifths of 1 and 5, quarters of 2.
fn minor_step(major: f64) -> f64 {
    let lead = major / 10f64.powf(major.log10().floor());
    if (lead - 2.0).abs() < 1e-6 {
        major / 4.0
    } else {
        major / 5.0
    }
}

/// Numbers in the SVG: at most one decimal, no trailing `.0`.
fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// Roughly how wide `text` is at `font` px, for layout without font metrics.
fn text_width(text: &str, font: f64) -> f64 {
    text.chars().count() as f64 * font * 0.56
}

/// Tick dates and their labels for the time axis, never past `end`.
fn x_ticks(start: NaiveDate, end: NaiveDate, max: usize) -> Vec<(NaiveDate, String)> {
    let span_years = (day(end) - day(start)) / 365.25;
    let mut ticks = Vec::new();
    if span_years >= 3.0 {
        let step = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
            .into_iter()
            .find(|s| ((span_years / *s as f64).floor() as usize) < max)
            .unwrap_or(1000);
        let mut year = start.year() + 1;
        while year % step != 0 {
            year += 1;
        }
        while let Some(d) = NaiveDate::from_ymd_opt(year, 1, 1) {
            if d > end {
                break;
            }
            ticks.push((d, year.to_string()));
            year += step;
        }
    } else {
        let months = (span_years * 12.0).ceil() as usize;
        let step = [1u32, 2, 3, 6, 12]
            .into_iter()
            .find(|s| months / (*s as usize) < max)
            .unwrap_or(12);
        let mut d = NaiveDate::from_ymd_opt(start.year(), start.month(), 1).unwrap_or(start);
        if d < start {
            d = d + Months::new(1);
        }
        while !d.month0().is_multiple_of(step) {
            d = d + Months::new(1);
        }
        let mut first = true;
        while d <= end {
            let label = if first || d.month() == 1 {
                d.format("%b %Y").to_string()
            } else {
                d.format("%b").to_string()
            };
            ticks.push((d, label));
            first = false;
            d = d + Months::new(step);
        }
    }
    ticks
}

/// Renders the chart as a standalone SVG document.
pub(crate) fn render_step_chart(spec: &ChartSpec) -> String {
    let (width, height) = spec.size.pixels();
    let (w, h) = (width as f64, height as f64);
    let font = spec.size.font();
    let small = (font * 0.8).round();

    let (start, end) = (spec.start, spec.end.max(spec.start));
    let y_top_value = spec
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
        .min(1e15);
    // About eight labelled lines: every Rs 10 on a fuel scale, minor lines every Rs 2.
    let major = nice_step(y_top_value.max(1e-6), 8.0);
    let y_max = ((y_top_value * 1.03 / major).ceil() * major).max(major);
    let minor = minor_step(major);

    // Layout: legend row, event label rows, plot, time labels.
    let events: Vec<&ChartEvent> = spec
        .events
        .iter()
        .filter(|e| e.date >= start && e.date <= end)
        .collect();
    let end_labels: Vec<String> = spec
        .series
        .iter()
        .map(|s| {
            if s.points.is_empty() {
                String::new()
            } else {
                (s.value_text)(s.points.len() - 1)
            }
        })
        .collect();
    let y_label_width = text_width(&format!("{}", y_max as i64), font) + 10.0;
    let end_width = end_labels
        .iter()
        .map(|l| text_width(l, font) * 1.12)
        .fold(0.0, f64::max);
    let (legend_at, legend_rows) = legend_layout(spec, font, w);
    let legend_h = font * (0.6 + 1.4 * legend_rows as f64);
    let event_row = small * 1.3;
    let event_rows = if events.is_empty() { 0.0 } else { 2.0 };
    let left = 6.0 + y_label_width;
    let right = w - end_width - 26.0;
    // The last decision sits a little inside the plot's edge so its step stays visible.
    let last_x = right - 10.0;
    let top = legend_h + event_rows * event_row + font * 0.6;
    let bottom = h - font * 1.9;
    let (d0, d1) = (day(start), day(end).max(day(start) + 1.0));
    let px = |d: NaiveDate| left + (day(d).clamp(d0, d1) - d0) / (d1 - d0) * (last_x - left);
    let py = |v: f64| bottom - (v.clamp(0.0, y_max) / y_max) * (bottom - top);

    let mut s = String::with_capacity(32 * 1024);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-size=\"{font}\" role=\"img\" aria-labelledby=\"t d\">\n<title id=\"t\">{}</title>\n<desc id=\"d\">{}</desc>\n{STYLE}\n",
        escape_markup(spec.title),
        escape_markup(spec.description)
    );

    // Gridlines: light minor ones, darker labelled ones, a light line per time tick.
    let ticks = x_ticks(start, end, spec.size.x_labels());
    let mut g2 = String::new();
    let mut g1 = String::new();
    let minors = (y_max / minor).round() as usize;
    let per_major = (major / minor).round() as usize;
    for i in 1..=minors.min(500) {
        let y = n(py(i as f64 * minor));
        if i % per_major == 0 {
            let _ = write!(g1, "M{} {y}H{}", n(left), n(right));
        } else {
            let _ = write!(g2, "M{} {y}H{}", n(left), n(right));
        }
    }
    for (d, _) in &ticks {
        let _ = write!(g2, "M{} {}V{}", n(px(*d)), n(top), n(bottom));
    }
    let _ = writeln!(
        s,
        "<path class=\"g2\" d=\"{g2}\"/>\n<path class=\"g1\" d=\"{g1}\"/>"
    );
    let _ = writeln!(
        s,
        "<path class=\"ax\" d=\"M{l} {b}H{r}M{l} {t}V{b}\"/>",
        l = n(left),
        r = n(right),
        t = n(top),
        b = n(bottom)
    );
    // Value labels at each labelled gridline, the unit above them.
    let mut labels = String::new();
    let majors = (y_max / major).round() as usize;
    for i in 0..=majors.min(100) {
        let v = i as f64 * major;
        let _ = write!(
            labels,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            n(left - 6.0),
            n(py(v) + font * 0.35),
            format_axis(v, major)
        );
    }
    let _ = writeln!(s, "<g text-anchor=\"end\">{labels}</g>");
    let mut xl = String::new();
    for (d, label) in &ticks {
        let x = px(*d);
        let anchor = if x + text_width(label, font) / 2.0 > w {
            " text-anchor=\"end\""
        } else {
            ""
        };
        let _ = write!(
            xl,
            "<text x=\"{}\" y=\"{}\"{anchor}>{}</text>",
            n(x),
            n(bottom + font * 1.35),
            escape_markup(label)
        );
    }
    let _ = writeln!(s, "<g text-anchor=\"middle\">{xl}</g>");

    // Events: a dashed vertical line with its label in one of two rows above the plot.
    let mut row_ends = [f64::MIN; 2];
    for e in &events {
        let x = px(e.date);
        let tip = format!("{}: {} (source: {})", date_text(e.date), e.label, e.source);
        let _ = write!(
            s,
            "<g><title>{}</title><path class=\"ev\" d=\"M{} {}V{}\"/>",
            escape_markup(&tip),
            n(x),
            n(legend_h + font * 0.2),
            n(bottom)
        );
        let width = text_width(e.label, small);
        let (lx, anchor) = if x + width + 4.0 > w {
            (x - 3.0, "end")
        } else {
            (x + 3.0, "start")
        };
        let (from, to) = if anchor == "end" {
            (lx - width, lx)
        } else {
            (lx, lx + width)
        };
        if let Some(row) = (0..2).find(|&r| row_ends[r] + 6.0 < from) {
            row_ends[row] = to;
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" font-size=\"{small}\" text-anchor=\"{anchor}\">{}</text>",
                n(lx),
                n(legend_h + event_row * (row as f64 + 1.0) - small * 0.25),
                escape_markup(e.label)
            );
        }
        s.push_str("</g>\n");
    }

    // The series: a step line, decision markers when they fit, tooltips.
    let plot_width = right - left;
    let mut ends: Vec<(f64, usize)> = Vec::new();
    for (i, series) in spec.series.iter().enumerate() {
        if series.points.is_empty() {
            continue;
        }
        let pixels: Vec<(i32, i32)> = step_points(&series.points, end)
            .iter()
            .map(|&(d, v)| (px(d).round() as i32, py(v).round() as i32))
            .collect();
        let kept = simplify(&pixels);
        let mut d = String::with_capacity(kept.len() * 8);
        let mut last: Option<(i32, i32)> = None;
        for &k in &kept {
            let (x, y) = pixels[k];
            match last {
                None => {
                    let _ = write!(d, "M{x} {y}");
                }
                Some((lx, ly)) if ly == y && lx != x => {
                    let _ = write!(d, "H{x}");
                }
                Some((lx, ly)) if lx == x && ly != y => {
                    let _ = write!(d, "V{y}");
                }
                Some(p) if p == (x, y) => {}
                Some(_) => {
                    let _ = write!(d, "L{x} {y}");
                }
            }
            last = Some((x, y));
        }
        let dash = match DASHES[i % DASHES.len()] {
            "" => String::new(),
            p => format!(" stroke-dasharray=\"{p}\""),
        };
        let _ = writeln!(
            s,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\" stroke-linejoin=\"round\"{dash}/>",
            escape_markup(series.colour)
        );
        let visible = series.points.iter().filter(|p| p.0 >= start).count();
        if let Some(cap) = CAPS.get(i) {
            if (visible as f64) <= plot_width / 6.0 {
                let mut m = String::new();
                for &(date, v) in series.points.iter().filter(|p| p.0 >= start) {
                    let _ = write!(m, "M{} {}h0", n(px(date)), n(py(v)));
                }
                let _ = writeln!(
                    s,
                    "<path d=\"{m}\" stroke=\"{}\" stroke-width=\"5\" stroke-linecap=\"{cap}\"/>",
                    escape_markup(series.colour)
                );
            }
        }
        s.push_str(&tooltips(series, start, end, &px, &py));
        let last_value = series.points[series.points.len() - 1].1;
        ends.push((py(last_value), i));
        let _ = writeln!(
            s,
            "<path d=\"M{} {y}H{}\" stroke=\"{}\" stroke-width=\"1\"/>",
            n(last_x),
            n(right),
            escape_markup(series.colour),
            y = n(py(last_value))
        );
    }

    // End labels: the latest values, nudged apart when two lines end close together.
    ends.sort_by(|a, b| a.0.total_cmp(&b.0));
    let gap = font * 1.15;
    let mut placed: Vec<f64> = Vec::with_capacity(ends.len());
    for &(y, _) in &ends {
        let y = placed.last().map_or(y, |&p| y.max(p + gap));
        placed.push(y);
    }
    let overflow = placed.last().map_or(0.0, |&p| (p - bottom).max(0.0));
    for (k, &(y, i)) in ends.iter().enumerate() {
        let ly = (placed[k] - overflow).max(top);
        let colour = escape_markup(spec.series[i].colour);
        let _ = write!(
            s,
            "<path d=\"M{} {}L{} {}\" stroke=\"{colour}\" stroke-width=\"1\" fill=\"none\"/>",
            n(right),
            n(y),
            n(right + 6.0),
            n(ly)
        );
        // The series' marker beside its value tells which line it belongs to.
        match CAPS.get(i) {
            Some(cap) => {
                let _ = write!(
                    s,
                    "<path d=\"M{} {}h0\" stroke=\"{colour}\" stroke-width=\"7\" stroke-linecap=\"{cap}\"/>",
                    n(right + 11.0),
                    n(ly)
                );
            }
            None => {
                let _ = write!(
                    s,
                    "<path d=\"M{} {}h8\" stroke=\"{colour}\" stroke-width=\"2.5\"/>",
                    n(right + 7.0),
                    n(ly)
                );
            }
        }
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-weight=\"600\">{}</text>",
            n(right + 18.0),
            n(ly + font * 0.35),
            escape_markup(&end_labels[i])
        );
    }

    // Legend: the unit, then each series' line pattern, marker and label.
    let _ = write!(
        s,
        "<text x=\"6\" y=\"{}\">{}</text>",
        n(font * 1.25),
        escape_markup(spec.unit)
    );
    for (i, series) in spec.series.iter().enumerate() {
        let (x, ly) = legend_at[i];
        let colour = escape_markup(series.colour);
        let dash = match DASHES[i % DASHES.len()] {
            "" => String::new(),
            p => format!(" stroke-dasharray=\"{p}\""),
        };
        let _ = write!(
            s,
            "<path d=\"M{} {}h30\" stroke=\"{colour}\" stroke-width=\"2.5\"{dash}/>",
            n(x),
            n(ly)
        );
        if let Some(cap) = CAPS.get(i) {
            let _ = write!(
                s,
                "<path d=\"M{} {}h0\" stroke=\"{colour}\" stroke-width=\"6\" stroke-linecap=\"{cap}\"/>",
                n(x + 15.0),
                n(ly)
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            n(x + 36.0),
            n(ly + font * 0.35),
            escape_markup(series.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Where each legend entry goes (its swatch's left end and middle) and how many rows
/// the legend takes: entries wrap when the next would pass the right edge.
fn legend_layout(spec: &ChartSpec, font: f64, w: f64) -> (Vec<(f64, f64)>, usize) {
    let indent = 6.0 + text_width(spec.unit, font) + font * 1.5;
    let (mut x, mut row) = (indent, 0);
    let mut at = Vec::with_capacity(spec.series.len());
    for series in &spec.series {
        let width = 36.0 + text_width(series.label, font);
        if x > indent && x + width > w - 4.0 {
            x = indent;
            row += 1;
        }
        at.push((x, font * (0.85 + 1.4 * row as f64)));
        x += width + font * 1.2;
    }
    (at, row + 1)
}

/// A value-axis label: whole numbers, or as many decimals as the step needs.
fn format_axis(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{v:.decimals$}")
}

/// A transparent band over each step with its date and exact value as a tooltip; for
/// long series only the lowest, highest and last steps.
fn tooltips(
    series: &ChartSeries,
    start: NaiveDate,
    end: NaiveDate,
    px: &dyn Fn(NaiveDate) -> f64,
    py: &dyn Fn(f64) -> f64,
) -> String {
    let points = &series.points;
    let chosen: Vec<usize> = if points.len() <= MAX_TIPS {
        (0..points.len()).collect()
    } else {
        let by_value = |a: &usize, b: &usize| points[*a].1.total_cmp(&points[*b].1);
        let all = 0..points.len();
        let mut picks = vec![
            all.clone().min_by(by_value).unwrap_or(0),
            all.max_by(by_value).unwrap_or(0),
            points.len() - 1,
        ];
        picks.sort_unstable();
        picks.dedup();
        picks
    };
    let mut out = String::from("<g class=\"tip\">");
    for i in chosen {
        let (date, value) = points[i];
        let next = points.get(i + 1).map_or(end, |p| p.0);
        if next < start {
            continue;
        }
        let x0 = px(date.max(start));
        let x1 = px(next).max(x0 + 4.0);
        let y = py(value);
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\"><title>{}: {} {}</title></rect>",
            n(x0 - 2.0),
            n(y - 6.0),
            n(x1 - x0),
            date_text(date),
            escape_markup(series.label),
            escape_markup(&(series.value_text)(i))
        );
    }
    out.push_str("</g>\n");
    out
}

/// Corner points of a step line: each value runs flat until the next decision, and
/// the last one until `end`.
fn step_points(points: &[(NaiveDate, f64)], end: NaiveDate) -> Vec<(NaiveDate, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2 + 1);
    for (i, &(date, value)) in points.iter().enumerate() {
        if i > 0 {
            out.push((date, points[i - 1].1));
        }
        out.push((date, value));
    }
    if let Some(&(date, value)) = points.last() {
        if date < end {
            out.push((end, value));
        }
    }
    out
}

/// Indices of the pixel points worth drawing. Within one pixel column only the first,
/// lowest, highest and last points can be seen; along a flat or vertical run only the
/// ends. A series of a million decisions draws as a few thousand points at most.
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
    fn gridlines_read_to_two_rupees_on_a_fuel_scale() {
        let major = nice_step(74.1, 8.0);
        assert_eq!(major, 10.0);
        assert_eq!(minor_step(major), 2.0);
        assert_eq!(minor_step(20.0), 5.0);
    }

    #[test]
    fn time_ticks_never_pass_the_end() {
        let ticks = x_ticks(d("2002-01-01"), d("2026-07-01"), 30);
        assert_eq!(ticks.last().unwrap().1, "2026");
        let ticks = x_ticks(d("2002-01-01"), d("2026-07-01"), 12);
        assert_eq!(ticks.last().unwrap().1, "2025");
        let ticks = x_ticks(d("2025-08-15"), d("2026-08-15"), 12);
        assert!(ticks.iter().all(|t| t.0 <= d("2026-08-15")));
        assert_eq!(ticks[0].1, "Sep 2025");
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
        let end = points[points.len() - 1].0;
        let text = |i: usize| format!("Rs {i}");
        let svg = render_step_chart(&ChartSpec {
            title: "T & t",
            description: "D",
            unit: "Rs/litre",
            series: vec![ChartSeries {
                label: "Mogas",
                colour: "#e8590c",
                points,
                value_text: &text,
            }],
            events: Vec::new(),
            start: d("2004-01-01"),
            end,
            size: ChartSize::Wide,
        });
        assert!(svg.contains("<title id=\"t\">T &amp; t</title>"));
        assert!(svg.contains("Mogas"));
        let line = svg
            .lines()
            .find(|l| l.contains("stroke=\"#e8590c\"") && l.contains("fill=\"none\""))
            .unwrap();
        let n = line.matches(['H', 'V', 'L']).count();
        assert!(n < 4 * 960, "{n} points for a 960 px chart");
        assert!(svg.len() < 60_000, "{} bytes", svg.len());
    }

    #[test]
    fn a_million_points_draw_in_under_100_kb_with_both_extremes() {
        let start = d("1000-01-01");
        let points: Vec<_> = (0..1_000_000u64)
            .map(|i| {
                let v = match i {
                    400_000 => 999.0,
                    700_001 => 1.0,
                    _ => 400.0 + ((i * 7919) % 200) as f64,
                };
                (start + chrono::Days::new(i), v)
            })
            .collect();
        let end = points[points.len() - 1].0;
        let text = |i: usize| format!("#{i}");
        for size in [ChartSize::Wide, ChartSize::Narrow] {
            let svg = render_step_chart(&ChartSpec {
                title: "T",
                description: "D",
                unit: "u",
                series: vec![ChartSeries {
                    label: "S",
                    colour: "#e8590c",
                    points: points.clone(),
                    value_text: &text,
                }],
                events: Vec::new(),
                start,
                end,
                size,
            });
            assert!(svg.len() < 100_000, "{} bytes", svg.len());
            assert!(
                svg.contains(": S #400000</title>"),
                "the maximum has a tooltip"
            );
            assert!(
                svg.contains(": S #700001</title>"),
                "the minimum has a tooltip"
            );
        }
    }
}
