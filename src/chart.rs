//! Price series → SVG step charts.
//!
//! Prices change by decision, so each series is a step line: a value holds until the
//! next decision, and the time axis ends at the last one. A chart is read without
//! colour (each series has its own dash pattern and marker, shown in the legend), to
//! about one fifth of a labelled step (light minor gridlines), and its last values are
//! written at the line ends. Every step carries a native `<title>` tooltip with its date
//! and exact value, and events are drawn as labelled vertical markers.
//!
//! plotters draws the chart (its SVG backend): plot area, axes, tick labels, light
//! and labelled gridlines, step lines, markers, legend and end labels, its frame in
//! sentinel colours. `compact` then rewrites that output smaller and themable:
//! gridlines merged into classed paths the embedded stylesheet colours for light and
//! dark, polylines as `H`/`V` paths with each series' dash pattern (plotters has no
//! dash arrays), markers merged into one path, labels grouped. A thin overlay written
//! by hand adds what plotters cannot express: a `<title>` tooltip per step and event
//! markers (a `<g>` with a title, a dashed line and a label).
//! Any number of points draws in a bounded size: per pixel column only the first,
//! lowest, highest and last points are kept, so every spike and record stays drawn
//! (columns a few pixels wide when many series change in every pixel column), and a
//! chart's tooltips are shared out among its series.

use std::fmt::Write as _;

use chrono::{Datelike, Months, NaiveDate};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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

/// Tooltips per decision up to this many in one series; beyond, only the lowest and
/// highest decision get one (the last value is written at the line's end), which
/// keeps a huge dataset's chart small.
const MAX_TIPS: usize = 400;
/// Tooltips per decision in one chart, shared by its series: two series get
/// `MAX_TIPS` each, 64 series (the most a dataset has) 12 each, so a wide dataset's
/// one-year chart is not 64 × 366 tooltips (7.6 MB).
const CHART_TIPS: usize = 2 * MAX_TIPS;
/// Points the step lines of one chart may keep: two series changing in every pixel
/// column keep about 7,200 at one column per pixel, and keep them all. With more
/// series the budget shrinks in proportion, to `WIDE_LINE_POINTS` from 16 series, and
/// past it columns are widened until the lines fit: 64 series zig-zagging daily kept
/// 230,000 points at one column per pixel (370 KB), and their labels, tooltips and
/// end labels take most of a chart's 100 KB.
const LINE_POINTS: usize = 8_000;
const WIDE_LINE_POINTS: usize = 1_000;

/// Dash pattern per series (solid, dashed, dotted, dash-dot), repeated past four.
const DASHES: [&str; 4] = ["", "9 5", "2 4", "12 4 2 4"];

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
    let left = (6.0 + y_label_width).round();
    let right = (w - end_width - 26.0).round().max(left + 40.0);
    // The last decision sits a little inside the plot's edge so its step stays visible.
    let last_x = right - 10.0;
    let bottom = (h - font * 1.9).round();
    // A legend wrapping onto many rows squeezes the plot, never inverts it.
    let top = (legend_h + event_rows * event_row + font * 0.6)
        .round()
        .min(bottom - 40.0);
    let (d0, d1) = (day(start), day(end).max(day(start) + 1.0));
    // plotters maps the x range onto the plot's full width; the data ends at `last_x`.
    let x_end = d0 + (d1 - d0) * (right - left) / (last_x - left);
    let colours = distinct_colours(&spec.series);
    let ticks = x_ticks(start, end, spec.size.x_labels());
    let minors = (y_max / minor).round() as usize;
    let per_major = (major / minor).round().max(1.0) as usize;
    let majors: Vec<f64> = (0..=minors.min(500) / per_major)
        .map(|i| (i * per_major) as f64 * minor)
        .collect();
    let lights: Vec<f64> = (1..=minors.min(500))
        .filter(|i| i % per_major != 0)
        .map(|i| i as f64 * minor)
        .collect();

    let mut raw = String::with_capacity(64 * 1024);
    let mut overlay = String::with_capacity(16 * 1024);
    let drawn = draw_with_plotters(
        &mut raw,
        &mut overlay,
        &Frame {
            spec,
            size: (width, height),
            font,
            small,
            plot: (left, right, top, bottom),
            last_x,
            x_range: (d0, x_end),
            y_max,
            major,
            majors,
            lights,
            ticks: &ticks,
            events: &events,
            legend_at: &legend_at,
            legend_h,
            event_row,
            end_labels: &end_labels,
            colours: &colours,
        },
    );
    if drawn.is_err() {
        // Drawing into a String cannot fail; should plotters ever refuse, the chart
        // still carries its title, description and tooltips rather than aborting.
        raw.clear();
    }
    let mut s = String::with_capacity(raw.len() + overlay.len() + 1024);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-size=\"{font}\" role=\"img\" aria-labelledby=\"t d\">\n<title id=\"t\">{}</title>\n<desc id=\"d\">{}</desc>\n{STYLE}\n",
        escape_markup(spec.title),
        escape_markup(spec.description)
    );
    compact(&raw, font, &colours, &mut s);
    s.push_str(&overlay);
    s.push_str("</svg>\n");
    s
}

/// What `draw_with_plotters` needs, laid out by `render_step_chart`.
struct Frame<'a> {
    spec: &'a ChartSpec<'a>,
    size: (u32, u32),
    font: f64,
    small: f64,
    /// Left, right, top and bottom edges of the plot, whole pixels.
    plot: (f64, f64, f64, f64),
    last_x: f64,
    x_range: (f64, f64),
    y_max: f64,
    major: f64,
    majors: Vec<f64>,
    lights: Vec<f64>,
    ticks: &'a [(NaiveDate, String)],
    events: &'a [&'a ChartEvent<'a>],
    legend_at: &'a [(f64, f64)],
    legend_h: f64,
    event_row: f64,
    end_labels: &'a [String],
    colours: &'a [RGBColor],
}

// Sentinel colours plotters writes as attributes for the frame; `compact` turns them
// into the classes the stylesheet themes light and dark.
const AXIS: RGBColor = RGBColor(1, 1, 1);
const GRID_BOLD: RGBColor = RGBColor(2, 2, 2);
const GRID_LIGHT: RGBColor = RGBColor(3, 3, 3);

// Stroke widths plotters writes for the series' own strokes, read back by `compact`
// to give each its dash pattern and final width: plotters' `ShapeStyle` has no dash
// array, and its `DashedLineSeries` writes one element per dash.
const W_STEP: u32 = 3;
const W_SWATCH: u32 = 4;
const W_KEY: u32 = 2;
const W_THIN: u32 = 1;

/// plotters draws the frame, gridlines, labels, step lines, markers, legend and end
/// labels into `raw`; what it cannot express goes into `overlay` (see `overlay_events`
/// and `tooltips`).
fn draw_with_plotters(
    raw: &mut String,
    overlay: &mut String,
    f: &Frame,
) -> Result<(), Box<dyn std::error::Error>> {
    let spec = f.spec;
    let (left, right, top, bottom) = f.plot;
    let (width, height) = f.size;
    // plotters writes font sizes divided by 1.24.
    let label = |size: f64| ("sans-serif", size * 1.24).into_font().color(&AXIS);
    let bold = |size: f64| {
        ("sans-serif", size * 1.24, FontStyle::Bold)
            .into_font()
            .color(&AXIS)
    };
    let root = SVGBackend::with_string(raw, (width, height)).into_drawing_area();
    let tick_days: Vec<f64> = f.ticks.iter().map(|t| day(t.0)).collect();
    let x_spec = GridAxis {
        from: f.x_range.0,
        to: f.x_range.1,
        bold: tick_days.clone(),
        light: Vec::new(),
    };
    let y_spec = GridAxis {
        from: 0.0,
        to: f.y_max,
        bold: f.majors.clone(),
        light: f.lights.clone(),
    };
    let mut chart = ChartBuilder::on(&root)
        .margin_top(top as u32)
        .margin_right((width as f64 - right) as u32)
        .x_label_area_size((height as f64 - bottom) as u32)
        .y_label_area_size(left as u32)
        .build_cartesian_2d(x_spec, y_spec)?;
    let x_format = |x: &f64| {
        f.ticks
            .iter()
            .min_by(|a, b| (day(a.0) - x).abs().total_cmp(&(day(b.0) - x).abs()))
            .map_or_else(String::new, |t| t.1.clone())
    };
    let y_format = |y: &f64| format_axis(*y, f.major);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(GRID_LIGHT.stroke_width(1))
        .bold_line_style(GRID_BOLD.stroke_width(1))
        // Transparent: plotters' axes sit a pixel outside the plot, so they are drawn
        // below on its edges, where the value 0 and the first date map.
        .axis_style(TRANSPARENT.stroke_width(1))
        .set_all_tick_mark_size(3)
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .label_style(label(f.font))
        .draw()?;
    let area = chart.plotting_area();
    area.draw(&PathElement::new(
        vec![(f.x_range.0, 0.0), (f.x_range.1, 0.0)],
        AXIS.stroke_width(1),
    ))?;
    area.draw(&PathElement::new(
        vec![(f.x_range.0, 0.0), (f.x_range.0, f.y_max)],
        AXIS.stroke_width(1),
    ))?;
    // A light vertical line per time label.
    for &x in &tick_days {
        area.draw(&PathElement::new(
            vec![(x, 0.0), (x, f.y_max)],
            GRID_LIGHT.stroke_width(1),
        ))?;
    }

    let (d0, d_end) = (f.x_range.0, day(spec.end.max(spec.start)));
    let at = |d: NaiveDate, v: f64| (day(d).clamp(d0, d_end.max(d0)), v.clamp(0.0, f.y_max));
    let px = |d: NaiveDate| area.map_coordinate(&at(d, 0.0)).0 as f64;
    let py = |v: f64| area.map_coordinate(&(d0, v.clamp(0.0, f.y_max))).1 as f64;

    overlay.push_str(&overlay_events(f, &px));

    let plot_width = right - left;
    // Each line reduced to one column per pixel, and kept when all of them fit the
    // budget (the usual case: no second pass over a long series).
    let mut fine: Vec<Vec<(NaiveDate, f64)>> = spec
        .series
        .iter()
        .map(|s| {
            let corners = step_corners(&s.points, spec.end.max(spec.start));
            simplified_in(corners, 1, |(d, v)| area.map_coordinate(&at(d, v)))
        })
        .collect();
    let kept: usize = fine.iter().map(Vec::len).sum();
    let budget = (LINE_POINTS * 2 / spec.series.len().max(1)).clamp(WIDE_LINE_POINTS, LINE_POINTS);
    let column = if kept <= budget {
        1
    } else {
        kept.div_ceil(budget).min(plot_width as usize) as i32
    };
    let tips = (CHART_TIPS / spec.series.len().max(1)).min(MAX_TIPS);
    let mut ends: Vec<(f64, usize)> = Vec::new();
    for (i, series) in spec.series.iter().enumerate() {
        if series.points.is_empty() {
            continue;
        }
        let colour = f.colours[i];
        let kept = if column == 1 {
            std::mem::take(&mut fine[i])
        } else {
            let corners = step_corners(&series.points, spec.end.max(spec.start));
            simplified_in(corners, column, |(d, v)| area.map_coordinate(&at(d, v)))
        };
        let kept = kept.into_iter().map(|(d, v)| at(d, v));
        for line in LineSeries::new(kept, colour.stroke_width(W_STEP)) {
            area.draw(&line)?;
        }
        let visible = series.points.iter().filter(|p| p.0 >= spec.start).count();
        if i < MARKERS && (visible as f64) <= plot_width / 6.0 {
            let shown = series.points.iter().filter(|p| p.0 >= spec.start);
            for &(d, v) in shown {
                if i == 0 {
                    area.draw(&Circle::new(at(d, v), 2, colour.filled()))?;
                } else {
                    area.draw(
                        &(EmptyElement::at(at(d, v))
                            + Rectangle::new([(-2, -2), (3, 3)], colour.filled())),
                    )?;
                }
            }
        }
        overlay.push_str(&tooltips(series, tips, spec.start, spec.end, &px, &py));
        let last_value = series.points[series.points.len() - 1].1;
        ends.push((py(last_value), i));
        root.draw(&PathElement::new(
            vec![
                (f.last_x.round() as i32, py(last_value) as i32),
                (right as i32, py(last_value) as i32),
            ],
            colour.stroke_width(W_THIN),
        ))?;
    }

    // End labels: the latest values, nudged apart when two lines end close together.
    ends.sort_by(|a, b| a.0.total_cmp(&b.0));
    let gap = f.font * 1.15;
    let mut placed: Vec<f64> = Vec::with_capacity(ends.len());
    for &(y, _) in &ends {
        let y = placed.last().map_or(y, |&p| y.max(p + gap));
        placed.push(y);
    }
    let overflow = placed.last().map_or(0.0, |&p| (p - bottom).max(0.0));
    for (k, &(y, i)) in ends.iter().enumerate() {
        let ly = (placed[k] - overflow).max(top).round() as i32;
        let colour = f.colours[i];
        let r = right as i32;
        root.draw(&PathElement::new(
            vec![(r, y as i32), (r + 6, ly)],
            colour.stroke_width(W_THIN),
        ))?;
        // The series' marker beside its value tells which line it belongs to.
        key(&root, i, (r + 11, ly), 3, colour)?;
        root.draw(&Text::new(
            f.end_labels[i].clone(),
            (r + 18, ly),
            bold(f.font).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }

    // Legend: the unit, then each series' line pattern, marker and label.
    root.draw(&Text::new(
        spec.unit.to_string(),
        (6, (f.font * 0.85).round() as i32),
        label(f.font).pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    for (i, series) in spec.series.iter().enumerate() {
        let (x, y) = (
            f.legend_at[i].0.round() as i32,
            f.legend_at[i].1.round() as i32,
        );
        let colour = f.colours[i];
        root.draw(&PathElement::new(
            vec![(x, y), (x + 30, y)],
            colour.stroke_width(W_SWATCH),
        ))?;
        if i < MARKERS {
            key(&root, i, (x + 15, y), 3, colour)?;
        }
        root.draw(&Text::new(
            series.label.to_string(),
            (x + 36, y),
            label(f.font).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    root.present()?;
    Ok(())
}

/// A linear axis whose labelled (bold) and light gridlines are chosen by the chart, not
/// by plotters: every Rs 2 and Rs 10 on a fuel scale, and calendar dates in time.
struct GridAxis {
    from: f64,
    to: f64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl Ranged for GridAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.from..self.to).map(value, limit)
    }
    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.from..self.to
    }
}

/// Series drawn with a marker at each decision: round dots, then squares; the others
/// are told apart by their dashes alone.
const MARKERS: usize = 2;

/// The series' marker at pixel `p` (radius `r`), or a short solid stroke for series
/// without one.
fn key(
    root: &DrawingArea<SVGBackend, Shift>,
    i: usize,
    (x, y): (i32, i32),
    r: i32,
    colour: RGBColor,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    match i {
        0 => root.draw(&Circle::new((x, y), r, colour.filled())),
        1 => root.draw(&Rectangle::new(
            [(x - r, y - r), (x + r + 1, y + r + 1)],
            colour.filled(),
        )),
        _ => root.draw(&PathElement::new(
            vec![(x - 4, y), (x + 4, y)],
            colour.stroke_width(W_KEY),
        )),
    }
}

/// Each series' colour, nudged by one step of blue where two series (or a series and a
/// frame sentinel) would share one: `compact` tells the series apart by colour.
fn distinct_colours(series: &[ChartSeries]) -> Vec<RGBColor> {
    let mut taken: Vec<RGBColor> = vec![AXIS, GRID_BOLD, GRID_LIGHT];
    let mut out = Vec::with_capacity(series.len());
    for s in series {
        let channel = |i: usize| {
            s.colour
                .get(i..i + 2)
                .and_then(|c| u8::from_str_radix(c, 16).ok())
                .unwrap_or(128)
        };
        let mut c = RGBColor(channel(1), channel(3), channel(5));
        while taken.contains(&c) {
            c.2 = c.2.wrapping_add(1);
        }
        taken.push(c);
        out.push(c);
    }
    out
}

/// Event markers, written by hand rather than by plotters: each is a `<g>` holding a
/// `<title>` (date, label and source), a dashed vertical line and its label, and
/// plotters has neither titles, groups nor dash arrays. Labels take one of two rows
/// above the plot and are dropped when both rows are full there.
fn overlay_events(f: &Frame, px: &dyn Fn(NaiveDate) -> f64) -> String {
    let (w, small, bottom) = (f.size.0 as f64, f.small, f.plot.3);
    let mut s = String::new();
    let mut row_ends = [f64::MIN; 2];
    for e in f.events {
        let x = px(e.date);
        let tip = format!("{}: {} (source: {})", date_text(e.date), e.label, e.source);
        let _ = write!(
            s,
            "<g><title>{}</title><path class=\"ev\" d=\"M{} {}V{}\"/>",
            escape_markup(&tip),
            n(x),
            n(f.legend_h + f.font * 0.2),
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
                n(f.legend_h + f.event_row * (row as f64 + 1.0) - small * 0.25),
                escape_markup(e.label)
            );
        }
        s.push_str("</g>\n");
    }
    s
}

/// The value of attribute `name` in one element's text.
fn attr<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let len = tag[at..].find('"')?;
    Some(&tag[at..at + len])
}

fn colour_of(text: &str) -> Option<RGBColor> {
    let hex = text.strip_prefix('#')?;
    let channel = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some(RGBColor(channel(0)?, channel(2)?, channel(4)?))
}

/// Points of a plotters `<line>` or `<polyline>`.
fn points_of(tag: &str) -> Vec<(i32, i32)> {
    let num = |name: &str| attr(tag, name).and_then(|v| v.parse().ok()).unwrap_or(0);
    if tag.starts_with("<line") {
        return vec![(num("x1"), num("y1")), (num("x2"), num("y2"))];
    }
    attr(tag, "points")
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|p| {
            let (x, y) = p.split_once(',')?;
            Some((x.parse().ok()?, y.parse().ok()?))
        })
        .collect()
}

/// Appends a polyline as compact path data: `H`/`V` for straight runs.
fn path_data(d: &mut String, points: &[(i32, i32)]) {
    let mut last: Option<(i32, i32)> = None;
    for &(x, y) in points {
        match last {
            None => {
                let _ = write!(d, "M{x} {y}");
            }
            Some(p) if p == (x, y) => {}
            Some((_, ly)) if ly == y => {
                let _ = write!(d, "H{x}");
            }
            Some((lx, _)) if lx == x => {
                let _ = write!(d, "V{y}");
            }
            Some(_) => {
                let _ = write!(d, "L{x} {y}");
            }
        }
        last = Some((x, y));
    }
}

/// Rewrites plotters' SVG body into `out`, smaller and themable. plotters writes one
/// element per gridline, colours as attributes, `<polyline>`s and no dash arrays; this
/// pass merges the frame's lines into three classed paths (gridlines, labelled
/// gridlines, axes) the stylesheet colours per theme, writes each series' strokes as
/// paths with the series' dash pattern, merges its markers into one path, and groups
/// runs of equally anchored labels. Coordinates are plotters' own, untouched.
fn compact(raw: &str, font: f64, colours: &[RGBColor], out: &mut String) {
    let (mut light, mut bold) = (String::new(), String::new());
    let mut axes: Vec<Vec<(i32, i32)>> = Vec::new();
    let mut body = String::with_capacity(raw.len() / 2);
    // An open run of merged markers (colour, width, cap) and of grouped labels.
    let mut markers: Option<(RGBColor, i32, &str, String)> = None;
    let mut anchor: Option<&str> = None;
    let hex = |c: RGBColor| format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2);
    let mut lines = raw.lines().skip(1);
    while let Some(line) = lines.next() {
        let is_marker = line.starts_with("<circle") || line.starts_with("<rect");
        let is_text = line.starts_with("<text");
        // The frame's lines go to their own paths and break no run.
        let is_frame = attr(line, "stroke")
            .and_then(colour_of)
            .is_some_and(|c| [AXIS, GRID_BOLD, GRID_LIGHT].contains(&c));
        if !is_marker && !is_frame {
            if let Some((c, width, cap, d)) = markers.take() {
                let _ = writeln!(
                    body,
                    "<path d=\"{d}\" stroke=\"{}\" stroke-width=\"{width}\" stroke-linecap=\"{cap}\"/>",
                    hex(c)
                );
            }
        }
        if !is_text && !is_frame && anchor.take().is_some() {
            body.push_str("</g>\n");
        }
        if line.starts_with("<line") || line.starts_with("<polyline") {
            let Some(c) = attr(line, "stroke").and_then(colour_of) else {
                continue;
            };
            let points = points_of(line);
            let width: u32 = attr(line, "stroke-width")
                .and_then(|w| w.parse().ok())
                .unwrap_or(1);
            match c {
                AXIS => axes.push(points),
                GRID_BOLD => path_data(&mut bold, &points),
                GRID_LIGHT => path_data(&mut light, &points),
                _ => {
                    let i = colours.iter().position(|&k| k == c).unwrap_or(0);
                    let dash = match DASHES[i % DASHES.len()] {
                        "" => String::new(),
                        p => format!(" stroke-dasharray=\"{p}\""),
                    };
                    let mut d = String::new();
                    match width {
                        W_STEP => {
                            path_data(&mut d, &points);
                            let _ = writeln!(
                                body,
                                "<path d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\" stroke-linejoin=\"round\"{dash}/>",
                                hex(c)
                            );
                        }
                        W_SWATCH | W_KEY => {
                            let (x0, y0) = points.first().copied().unwrap_or_default();
                            let x1 = points.last().map_or(x0, |p| p.0);
                            let dash = if width == W_SWATCH { dash.as_str() } else { "" };
                            let _ = writeln!(
                                body,
                                "<path d=\"M{x0} {y0}h{}\" stroke=\"{}\" stroke-width=\"2.5\"{dash}/>",
                                x1 - x0,
                                hex(c)
                            );
                        }
                        _ => {
                            path_data(&mut d, &points);
                            let _ = writeln!(
                                body,
                                "<path d=\"{d}\" stroke=\"{}\" stroke-width=\"1\"/>",
                                hex(c)
                            );
                        }
                    }
                }
            }
        } else if is_marker {
            let Some(c) = attr(line, "fill").and_then(colour_of) else {
                continue;
            };
            let num = |name: &str| -> i32 {
                attr(line, name)
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0)
                    .round() as i32
            };
            // A dot or a square as a zero-length stroke with a round or square cap.
            let (x, y, width, cap) = if line.starts_with("<circle") {
                (num("cx"), num("cy"), 2 * num("r") + 1, "round")
            } else {
                let side = num("width");
                (num("x") + side / 2, num("y") + side / 2, side, "square")
            };
            match &mut markers {
                Some((mc, mw, mcap, d)) if *mc == c && *mw == width && *mcap == cap => {
                    let _ = write!(d, "M{x} {y}h0");
                }
                _ => {
                    if let Some((c, width, cap, d)) = markers.take() {
                        let _ = writeln!(
                            body,
                            "<path d=\"{d}\" stroke=\"{}\" stroke-width=\"{width}\" stroke-linecap=\"{cap}\"/>",
                            hex(c)
                        );
                    }
                    markers = Some((c, width, cap, format!("M{x} {y}h0")));
                }
            }
        } else if line.starts_with("<text") {
            let content = lines.next().unwrap_or("");
            let _ = lines.next(); // </text>
            let this = attr(line, "text-anchor").unwrap_or("start");
            if anchor != Some(this) {
                if anchor.take().is_some() {
                    body.push_str("</g>\n");
                }
                if this != "start" {
                    let _ = write!(body, "<g text-anchor=\"{this}\">");
                    anchor = Some(this);
                }
            }
            let _ = write!(
                body,
                "<text x=\"{}\" y=\"{}\"",
                attr(line, "x").unwrap_or("0"),
                attr(line, "y").unwrap_or("0")
            );
            if let Some(dy) = attr(line, "dy") {
                let _ = write!(body, " dy=\"{dy}\"");
            }
            let size = attr(line, "font-size")
                .and_then(|v| v.parse::<f64>().ok())
                .map_or(font, f64::round);
            if size != font {
                let _ = write!(body, " font-size=\"{size}\"");
            }
            if attr(line, "font-weight").is_some() {
                body.push_str(" font-weight=\"600\"");
            }
            // plotters has already escaped the text.
            let _ = write!(body, ">{content}</text>");
            if anchor.is_none() {
                body.push('\n');
            }
        }
    }
    if let Some((c, width, cap, d)) = markers.take() {
        let _ = writeln!(
            body,
            "<path d=\"{d}\" stroke=\"{}\" stroke-width=\"{width}\" stroke-linecap=\"{cap}\"/>",
            hex(c)
        );
    }
    if anchor.is_some() {
        body.push_str("</g>\n");
    }
    // The time axis first (a horizontal line), then the value axis.
    axes.sort_by_key(|a| a.windows(2).any(|w| w[0].1 != w[1].1));
    let mut ax = String::new();
    for a in &axes {
        path_data(&mut ax, a);
    }
    let _ = writeln!(
        out,
        "<path class=\"g2\" d=\"{light}\"/>\n<path class=\"g1\" d=\"{bold}\"/>\n<path class=\"ax\" d=\"{ax}\"/>"
    );
    out.push_str(&body);
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
/// series showing more than `max` steps only the lowest and highest.
fn tooltips(
    series: &ChartSeries,
    max: usize,
    start: NaiveDate,
    end: NaiveDate,
    px: &dyn Fn(NaiveDate) -> f64,
    py: &dyn Fn(f64) -> f64,
) -> String {
    let points = &series.points;
    // Steps that show on the chart: a view of the last months starts after most of a
    // long series' decisions, and its extremes are those of what it shows.
    let first = points
        .iter()
        .position(|p| p.0 >= start)
        .map_or(points.len().saturating_sub(1), |i| i.saturating_sub(1));
    let chosen: Vec<usize> = if points.len() - first <= max {
        (first..points.len()).collect()
    } else {
        // The last value is also written at the line's end.
        let by_value = |a: &usize, b: &usize| points[*a].1.total_cmp(&points[*b].1);
        let shown = first..points.len();
        let mut picks = vec![
            shown.clone().min_by(by_value).unwrap_or(first),
            shown.max_by(by_value).unwrap_or(first),
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
fn step_corners(
    points: &[(NaiveDate, f64)],
    end: NaiveDate,
) -> impl Iterator<Item = (NaiveDate, f64)> + '_ {
    let corners = points
        .iter()
        .enumerate()
        .flat_map(move |(i, &(date, value))| {
            let before = (i > 0).then(|| (date, points[i - 1].1));
            before.into_iter().chain(std::iter::once((date, value)))
        });
    let tail = points
        .last()
        .filter(|&&(date, _)| date < end)
        .map(|&(_, value)| (end, value));
    corners.chain(tail)
}

/// The points of a line worth drawing, given where each lands (`pixel`). Within one
/// pixel column only the first, lowest, highest and last points can be seen; along a
/// flat or vertical run only the ends. A series of a million decisions draws as a few
/// thousand points at most, and is looked at one point at a time: its two million
/// corners are never held together.
#[cfg(test)]
fn simplified<P: Copy>(points: impl Iterator<Item = P>, pixel: impl Fn(P) -> (i32, i32)) -> Vec<P> {
    simplified_in(points, 1, pixel)
}

/// `simplified` with columns `column` pixels wide (at least 1): each keeps its first,
/// lowest, highest and last points, so a spike or record is still drawn.
fn simplified_in<P: Copy>(
    points: impl Iterator<Item = P>,
    column: i32,
    pixel: impl Fn(P) -> (i32, i32),
) -> Vec<P> {
    let column = column.max(1);
    // A point with its place in the line and its pixel.
    type Seen<P> = (usize, (i32, i32), P);
    fn push_column<P: Copy>(columns: &mut Vec<Seen<P>>, run: [Seen<P>; 4]) {
        let [first, lowest, highest, last] = run;
        let (a, b) = if lowest.0 <= highest.0 {
            (lowest, highest)
        } else {
            (highest, lowest)
        };
        for k in [first, a, b, last] {
            if columns
                .last()
                .is_none_or(|&(i, at, _)| i != k.0 && at != k.1)
            {
                columns.push(k);
            }
        }
    }
    let mut columns: Vec<Seen<P>> = Vec::new();
    // The column being read: its first, lowest (the last of the largest y), highest
    // (the first of the smallest y) and last points.
    let mut run: Option<[Seen<P>; 4]> = None;
    for (i, point) in points.enumerate() {
        let seen = (i, pixel(point), point);
        match &mut run {
            Some([first, lowest, highest, last])
                if first.1 .0.div_euclid(column) == seen.1 .0.div_euclid(column) =>
            {
                if seen.1 .1 >= lowest.1 .1 {
                    *lowest = seen;
                }
                if seen.1 .1 < highest.1 .1 {
                    *highest = seen;
                }
                *last = seen;
            }
            _ => {
                if let Some(done) = run.replace([seen; 4]) {
                    push_column(&mut columns, done);
                }
            }
        }
    }
    if let Some(done) = run {
        push_column(&mut columns, done);
    }
    // Drop middle points of straight horizontal or vertical runs.
    let mut kept: Vec<Seen<P>> = Vec::with_capacity(columns.len());
    for k in columns {
        if let [.., (_, a, _), (_, b, _)] = kept[..] {
            let c = k.1;
            let flat = a.1 == b.1 && b.1 == c.1;
            let upright = a.0 == b.0 && b.0 == c.0 && (a.1 <= b.1) == (b.1 <= c.1);
            if flat || upright {
                kept.pop();
            }
        }
        kept.push(k);
    }
    kept.into_iter().map(|(_, _, point)| point).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::data::parse_date(s).unwrap()
    }

    /// The reduction as first written, holding every pixel: the reference for
    /// [`simplified`].
    /// Within one pixel column only the first,
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
                if columns.last() != Some(&k)
                    && columns.last().is_none_or(|&l| pixels[l] != pixels[k])
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
        assert_eq!(simplified(pts.iter().copied(), |p| p), kept);
    }

    proptest::proptest! {
        /// Reading a line one point at a time keeps exactly the points the reference
        /// keeps from the whole line, whatever the columns, runs and ties.
        #[test]
        fn simplified_keeps_what_the_whole_line_reduction_keeps(
            steps in proptest::collection::vec((0i32..3, 0i32..6), 0..200),
        ) {
            let mut x = 0;
            let pixels: Vec<(i32, i32)> = steps
                .iter()
                .map(|&(dx, y)| {
                    x += dx;
                    (x, y)
                })
                .collect();
            let kept: Vec<usize> = simplified(pixels.iter().copied().enumerate(), |(_, p)| p)
                .into_iter()
                .map(|(i, _)| i)
                .collect();
            proptest::prop_assert_eq!(kept, simplify(&pixels));
        }
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

    #[test]
    fn compact_merges_the_frame_and_dashes_each_series() {
        let raw = "<svg>\n\
<line opacity=\"1\" stroke=\"#030303\" stroke-width=\"1\" x1=\"10\" y1=\"50\" x2=\"90\" y2=\"50\"/>\n\
<line opacity=\"1\" stroke=\"#020202\" stroke-width=\"1\" x1=\"10\" y1=\"20\" x2=\"90\" y2=\"20\"/>\n\
<polyline fill=\"none\" opacity=\"1\" stroke=\"#010101\" stroke-width=\"1\" points=\"10,10 10,90 \"/>\n\
<polyline fill=\"none\" opacity=\"1\" stroke=\"#010101\" stroke-width=\"1\" points=\"10,90 90,90 \"/>\n\
<polyline fill=\"none\" opacity=\"1\" stroke=\"#1C7ED6\" stroke-width=\"3\" points=\"10,80 40,80 40,60 40,60 90,30 \"/>\n\
<circle cx=\"10\" cy=\"80\" r=\"2\" opacity=\"1\" fill=\"#1C7ED6\" stroke=\"none\" stroke-width=\"1\"/>\n\
<circle cx=\"40\" cy=\"60\" r=\"2\" opacity=\"1\" fill=\"#1C7ED6\" stroke=\"none\" stroke-width=\"1\"/>\n\
<text x=\"5\" y=\"90\" dy=\"0.5ex\" text-anchor=\"end\" font-family=\"sans-serif\" font-size=\"14\" opacity=\"1\" fill=\"#010101\">\n0\n</text>\n\
<polyline fill=\"none\" opacity=\"1\" stroke=\"#010101\" stroke-width=\"1\" points=\"2,20 5,20 \"/>\n\
<text x=\"5\" y=\"20\" dy=\"0.5ex\" text-anchor=\"end\" font-family=\"sans-serif\" font-size=\"14\" opacity=\"1\" fill=\"#010101\">\n10 &amp; up\n</text>\n\
<polyline fill=\"none\" opacity=\"1\" stroke=\"#1C7ED6\" stroke-width=\"4\" points=\"100,5 130,5 \"/>\n\
</svg>\n";
        let colours = [RGBColor(0xe8, 0x59, 0x0c), RGBColor(0x1c, 0x7e, 0xd6)];
        let mut out = String::new();
        compact(raw, 14.0, &colours, &mut out);
        let want = "<path class=\"g2\" d=\"M10 50H90\"/>\n\
<path class=\"g1\" d=\"M10 20H90\"/>\n\
<path class=\"ax\" d=\"M10 90H90M2 20H5M10 10V90\"/>\n\
<path d=\"M10 80H40V60L90 30\" fill=\"none\" stroke=\"#1c7ed6\" stroke-width=\"2.5\" stroke-linejoin=\"round\" stroke-dasharray=\"9 5\"/>\n\
<path d=\"M10 80h0M40 60h0\" stroke=\"#1c7ed6\" stroke-width=\"5\" stroke-linecap=\"round\"/>\n\
<g text-anchor=\"end\"><text x=\"5\" y=\"90\" dy=\"0.5ex\">0</text><text x=\"5\" y=\"20\" dy=\"0.5ex\">10 &amp; up</text></g>\n\
<path d=\"M100 5h30\" stroke=\"#1c7ed6\" stroke-width=\"2.5\" stroke-dasharray=\"9 5\"/>\n";
        assert_eq!(out, want);
    }

    #[test]
    fn crowded_or_degenerate_charts_still_draw() {
        let labels: Vec<String> = (0..40)
            .map(|i| format!("A long series label {i}"))
            .collect();
        let text = |i: usize| format!("Rs {i}");
        for size in [ChartSize::Wide, ChartSize::Narrow] {
            let series = labels
                .iter()
                .enumerate()
                .map(|(i, label)| ChartSeries {
                    label,
                    colour: if i % 2 == 0 { "#e8590c" } else { "#010101" },
                    points: match i {
                        0 => Vec::new(),
                        1 => vec![(d("2026-01-01"), f64::NAN)],
                        2 => vec![(d("2026-01-01"), f64::INFINITY)],
                        _ => vec![(d("2026-01-01"), i as f64), (d("2026-01-02"), 0.0)],
                    },
                    value_text: &text,
                })
                .collect();
            let svg = render_step_chart(&ChartSpec {
                title: "T",
                description: "D",
                unit: "Rs/litre",
                series,
                events: Vec::new(),
                start: d("2026-01-02"),
                end: d("2026-01-01"),
                size,
            });
            assert!(svg.ends_with("</svg>\n"));
            // Every series keeps its own colour, so each keeps its own dash pattern.
            assert!(svg.contains("stroke=\"#e8590c\""), "{svg}");
            assert!(svg.contains("stroke=\"#e8590d\""), "{svg}");
            assert!(svg.contains("stroke=\"#010104\""), "{svg}");
        }
    }
}
