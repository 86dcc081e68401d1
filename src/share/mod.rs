//! Share previews: a [`Card`] (site and page title, up to three "label value change"
//! lines, the date, an optional small step chart) → a 1200×630 PNG for `og:image`.
//!
//! Pure and deterministic: the card is laid out as SVG with sizes measured in the
//! bundled fonts ([`text`]), rasterised by resvg (tiny-skia) and encoded as PNG; the same
//! card always gives the same bytes. Nothing here knows about datasets or pages: the
//! build fills a card with text it has already formatted.

mod text;

use std::fmt::Write as _;

use resvg::{tiny_skia, usvg};

use text::{clip, width, wrap, Weight};

pub(crate) const WIDTH: u32 = 1200;
pub(crate) const HEIGHT: u32 = 630;

/// Lines beyond this are left out: more would not be legible in a thumbnail.
pub(crate) const MAX_LINES: usize = 3;
/// Chart points kept per series; longer series are reduced to each pixel column's
/// first, lowest, highest and last point, which draws the same step line.
const MAX_CHART_POINTS: usize = 4 * CHART_W as usize;

const MARGIN: f32 = 64.0;
const CHART_X: f32 = MARGIN;
const CHART_W: f32 = WIDTH as f32 - 2.0 * MARGIN;

const BACKGROUND: &str = "#fbfaf8";
const INK: &str = "#1a1d21";
const MUTED: &str = "#4a5058";
const RULE: &str = "#dedad3";
const UP: &str = "#b3261e";
const DOWN: &str = "#1e7a34";
const FALLBACK_ACCENT: &str = "#e8590c";

/// What one preview shows.
#[derive(Debug, Clone, Default, Hash)]
pub(crate) struct Card {
    pub(crate) site_title: String,
    /// The page: a dataset's title, or a note's title.
    pub(crate) title: String,
    /// Current values, shown large; none makes a title card (for notes).
    pub(crate) lines: Vec<Line>,
    /// "Decision of 15 August 2026", "Note · 20 April 2026".
    pub(crate) date_line: String,
    pub(crate) chart: Option<Chart>,
    /// `#rrggbb` for the top bar; anything else falls back to the site's orange.
    pub(crate) accent: String,
}

#[derive(Debug, Clone, Default, Hash)]
pub(crate) struct Line {
    /// "Mogas (petrol)"
    pub(crate) label: String,
    /// "Rs 70.65"
    pub(crate) value: String,
    /// "up Rs 1.50 (+2.2%)", "unchanged": the words carry the direction, the mark
    /// and colour only repeat it.
    pub(crate) change: String,
    pub(crate) direction: Direction,
    /// `#rrggbb`, the series' colour in the chart and in the key.
    pub(crate) colour: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) enum Direction {
    Up,
    Down,
    Unchanged,
    /// A first value: nothing to compare with.
    #[default]
    None,
}

/// A small step chart: each series' points, oldest first, and the labels under its
/// two ends (e.g. the first and last year).
#[derive(Debug, Clone, Default)]
pub(crate) struct Chart {
    pub(crate) series: Vec<ChartSeries>,
    pub(crate) start_label: String,
    pub(crate) end_label: String,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ChartSeries {
    pub(crate) colour: String,
    /// (x, y), ordered by x. Geometry only: the published values are in the lines.
    pub(crate) points: Vec<(f64, f64)>,
}

impl std::hash::Hash for Chart {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (&self.start_label, &self.end_label).hash(h);
        for s in &self.series {
            s.colour.hash(h);
            for (x, y) in &s.points {
                (x.to_bits(), y.to_bits()).hash(h);
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ShareError {
    #[error("share image layout is not valid SVG: {0}")]
    Svg(String),
    #[error("share image could not be encoded as PNG: {0}")]
    Png(String),
}

/// The card as a 1200×630 PNG.
pub(crate) fn render_png(card: &Card) -> Result<Vec<u8>, ShareError> {
    let svg = card_svg(card);
    let options = usvg::Options {
        font_family: text::FAMILY.to_string(),
        fontdb: text::fontdb(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(&svg, &options).map_err(|e| ShareError::Svg(e.to_string()))?;
    let mut pixmap = tiny_skia::Pixmap::new(WIDTH, HEIGHT).expect("non-zero size");
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    encode(&pixmap)
}

/// The pixmap as a PNG: indexed (a palette of at most 256 colours) when the card has
/// no more, which is the usual case (a few flat colours and their anti-aliased blends
/// with the background); otherwise 8-bit RGB. Both are lossless. Indexed, the encoder
/// compresses a quarter of the bytes, and the file is about 40% smaller. Indexed rows
/// are not filtered (an index is not a magnitude) and take deflate level 4: on 2,000
/// note cards 32 MB in all against 31 MB at the default 6 and 55 MB at 1, in less time
/// than 6. For RGB the default level with the Sub filter was measured the fastest at
/// the same size. Cards are opaque: the background fills the whole image.
fn encode(pixmap: &tiny_skia::Pixmap) -> Result<Vec<u8>, ShareError> {
    let mut out = Vec::with_capacity(64 * 1024);
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    let data: Vec<u8> = match palette(pixmap.data()) {
        Some((colours, indices)) => {
            encoder.set_color(png::ColorType::Indexed);
            encoder.set_palette(colours);
            encoder.set_filter(png::Filter::NoFilter);
            encoder.set_deflate_compression(png::DeflateCompression::Level(4));
            indices
        }
        None => {
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_filter(png::Filter::Sub);
            pixmap
                .data()
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect()
        }
    };
    let png_error = |e: png::EncodingError| ShareError::Png(e.to_string());
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(&data).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(out)
}

/// The image's colours in order of first appearance (deterministic) and each pixel's
/// index, or none if there are more than 256 or a pixel is not opaque.
fn palette(rgba: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    // A pixel as one word; the palette is searched through a small direct-mapped
    // table in front of the list, since this runs on every pixel of every card.
    let mut colours: Vec<u32> = Vec::with_capacity(256);
    let mut table = [(u32::MAX, 0u8); 1024];
    let mut indices = Vec::with_capacity(rgba.len() / 4);
    // The last pixel's bytes four times (16 bytes), and its index: most of a card is
    // flat colour, which four 16-byte compares take sixteen pixels at a time. (Words,
    // not a 64-byte slice compare, which is a call to memcmp per step.)
    let mut run: Option<(u128, u8)> = None;
    let word16 = |at: usize| -> Option<u128> {
        Some(u128::from_le_bytes(rgba.get(at..at + 16)?.try_into().ok()?))
    };
    let mut at = 0;
    while at + 4 <= rgba.len() {
        if let Some((pattern, i)) = run {
            if (0..4).all(|k| word16(at + 16 * k) == Some(pattern)) {
                indices.extend_from_slice(&[i; 16]);
                at += 64;
                continue;
            }
            if rgba[at..at + 4] == pattern.to_le_bytes()[..4] {
                indices.push(i);
                at += 4;
                continue;
            }
        }
        let p = &rgba[at..at + 4];
        if p[3] != 255 {
            return None;
        }
        let word = u32::from_le_bytes([p[0], p[1], p[2], p[3]]);
        let slot = (word.wrapping_mul(0x9E37_79B1) >> 22) as usize;
        // The table starts full of u32::MAX, opaque white: a real colour, so a hit
        // there is checked against the list before it is trusted.
        let i = match table[slot] {
            (w, i) if w == word && colours.get(usize::from(i)) == Some(&word) => i,
            _ => {
                let i = match colours.iter().position(|&c| c == word) {
                    Some(i) => i as u8,
                    None => {
                        let i = u8::try_from(colours.len()).ok()?;
                        colours.push(word);
                        i
                    }
                };
                table[slot] = (word, i);
                i
            }
        };
        indices.push(i);
        run = Some((
            u128::from(word) * 0x0000_0001_0000_0001_0000_0001_0000_0001,
            i,
        ));
        at += 4;
    }
    let rgb = colours.iter().flat_map(|c| {
        let [r, g, b, _] = c.to_le_bytes();
        [r, g, b]
    });
    Some((rgb.collect(), indices))
}

/// The card laid out as SVG, every text already measured to fit.
pub(crate) fn card_svg(card: &Card) -> String {
    let mut svg = String::with_capacity(8 * 1024);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{}">"#,
        text::FAMILY
    );
    let _ = write!(
        svg,
        r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="{BACKGROUND}"/><rect width="{WIDTH}" height="14" fill="{}"/>"#,
        colour_or(&card.accent, FALLBACK_ACCENT)
    );
    let max = WIDTH as f32 - 2.0 * MARGIN;
    let site = clean(&card.site_title);
    let title = clean(&card.title);

    let lines: Vec<&Line> = card.lines.iter().take(MAX_LINES).collect();
    if lines.is_empty() {
        // A title card: the site's name, then the title as large as fits.
        push_text(
            &mut svg,
            MARGIN,
            96.0,
            36.0,
            Weight::Bold,
            MUTED,
            "",
            &clip(&site, Weight::Bold, 36.0, max),
        );
        let (size, wrapped) = [(76.0, 3), (64.0, 4)]
            .iter()
            .map(|&(size, n)| (size, wrap(&title, Weight::Bold, size, max, n)))
            .find(|(_, (_, fitted))| *fitted)
            .unwrap_or_else(|| (56.0, wrap(&title, Weight::Bold, 56.0, max, 5)));
        let line_height = size * 1.2;
        for (i, l) in wrapped.0.iter().enumerate() {
            let y = 200.0 + size * 0.8 + i as f32 * line_height;
            push_text(&mut svg, MARGIN, y, size, Weight::Bold, INK, "", l);
        }
    } else {
        // Header: "Site · Page title" on one line.
        let site_w = width(&site, Weight::Bold, 36.0);
        push_text(
            &mut svg,
            MARGIN,
            90.0,
            36.0,
            Weight::Bold,
            INK,
            "",
            &clip(&site, Weight::Bold, 36.0, max),
        );
        if !title.is_empty() && site_w + 60.0 < max {
            let rest = clip(
                &format!("· {title}"),
                Weight::Regular,
                36.0,
                max - site_w - 16.0,
            );
            push_text(
                &mut svg,
                MARGIN + site_w + 16.0,
                90.0,
                36.0,
                Weight::Regular,
                MUTED,
                "",
                &rest,
            );
        }
        let gap = 48.0;
        let n = lines.len() as f32;
        let column = (max - gap * (n - 1.0)) / n;
        // One size for every value, the largest at which all fit, so they compare.
        let value_size = lines
            .iter()
            .map(|l| column * 0.96 / width(&clean(&l.value), Weight::Bold, 1.0).max(0.01))
            .fold(124.0f32, f32::min)
            .max(40.0);
        for (i, line) in lines.iter().enumerate() {
            let x = MARGIN + i as f32 * (column + gap);
            push_line(&mut svg, line, x, column, value_size);
        }
    }

    if let Some(chart) = &card.chart {
        push_chart(&mut svg, chart);
    }
    let date = clean(&card.date_line);
    push_text(
        &mut svg,
        MARGIN,
        596.0,
        36.0,
        Weight::Bold,
        INK,
        "",
        &clip(&date, Weight::Bold, 36.0, max),
    );
    svg.push_str("</svg>");
    svg
}

/// One value in its column: key swatch and label, the value as large as fits, the
/// change in words.
fn push_line(svg: &mut String, line: &Line, x: f32, column: f32, size: f32) {
    let colour = colour_or(&line.colour, INK);
    let _ = write!(
        svg,
        r#"<rect x="{x:.1}" y="136" width="26" height="26" rx="4" fill="{colour}"/>"#
    );
    let label = clip(&clean(&line.label), Weight::Regular, 36.0, column - 40.0);
    push_text(
        svg,
        x + 40.0,
        161.0,
        36.0,
        Weight::Regular,
        MUTED,
        "",
        &label,
    );

    let value = clip(&clean(&line.value), Weight::Bold, size, column);
    push_text(svg, x, 280.0, size, Weight::Bold, INK, "", &value);

    let (mark, colour) = match line.direction {
        Direction::Up => ("▲ ", UP),
        Direction::Down => ("▼ ", DOWN),
        Direction::Unchanged => ("= ", MUTED),
        Direction::None => ("", MUTED),
    };
    let change = format!("{mark}{}", clean(&line.change));
    let size = (column / width(&change, Weight::Bold, 1.0).max(0.01)).clamp(26.0, 38.0);
    let change = clip(&change, Weight::Bold, size, column);
    push_text(svg, x, 336.0, size, Weight::Bold, colour, "", &change);
}

const CHART_TOP: f32 = 366.0;
const CHART_H: f32 = 136.0;

fn push_chart(svg: &mut String, chart: &Chart) {
    let series: Vec<(String, Vec<(f64, f64)>)> = chart
        .series
        .iter()
        .map(|s| {
            let points: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            (colour_or(&s.colour, INK).to_string(), points)
        })
        .filter(|(_, p)| !p.is_empty())
        .collect();
    let all = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if series.is_empty() {
        return;
    }
    // A flat series sits in the middle; otherwise the extremes stay clear of the rules.
    let pad = CHART_H * 0.08;
    let sx = |x: f64| CHART_X + fraction(x, x0, x1, 0.0) * CHART_W;
    let sy = |y: f64| CHART_TOP + pad + (1.0 - fraction(y, y0, y1, 0.5)) * (CHART_H - 2.0 * pad);

    // Faint rules at the bottom, middle and top give the line a frame of reference.
    for i in 0..3 {
        let y = CHART_TOP + CHART_H * i as f32 / 2.0;
        let _ = write!(
            svg,
            r#"<line x1="{CHART_X}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{RULE}" stroke-width="2"/>"#,
            CHART_X + CHART_W
        );
    }
    let end = CHART_X + CHART_W;
    for (colour, points) in &series {
        let points = thin(points, x0, x1);
        let mut d = String::with_capacity(points.len() * 16);
        let (first_x, first_y) = points[0];
        let _ = write!(d, "M{:.1} {:.1}", sx(first_x), sy(first_y));
        for &(x, y) in &points[1..] {
            let _ = write!(d, "H{:.1}V{:.1}", sx(x), sy(y));
        }
        let _ = write!(d, "H{end:.1}");
        let _ = write!(
            svg,
            r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="5" stroke-linejoin="round"/>"#
        );
        let (_, last_y) = points[points.len() - 1];
        let _ = write!(
            svg,
            r#"<circle cx="{end:.1}" cy="{:.1}" r="8" fill="{colour}" stroke="{BACKGROUND}" stroke-width="3"/>"#,
            sy(last_y)
        );
    }
    let labels_y = CHART_TOP + CHART_H + 32.0;
    let half = CHART_W / 2.0 - 20.0;
    let start = clip(&clean(&chart.start_label), Weight::Regular, 28.0, half);
    let finish = clip(&clean(&chart.end_label), Weight::Regular, 28.0, half);
    push_text(
        svg,
        CHART_X,
        labels_y,
        28.0,
        Weight::Regular,
        MUTED,
        "",
        &start,
    );
    push_text(
        svg,
        end,
        labels_y,
        28.0,
        Weight::Regular,
        MUTED,
        "end",
        &finish,
    );
}

/// Where `v` lies between `lo` and `hi`, from 0 to 1; `flat` when they are equal.
/// Halved first so that even `f64::MAX - f64::MIN` cannot overflow to infinity.
fn fraction(v: f64, lo: f64, hi: f64, flat: f32) -> f32 {
    let span = hi / 2.0 - lo / 2.0;
    let f = (v / 2.0 - lo / 2.0) / span;
    if span > 0.0 && f.is_finite() {
        f.clamp(0.0, 1.0) as f32
    } else {
        flat
    }
}

/// Reduces a long series to at most about [`MAX_CHART_POINTS`]: per pixel column the
/// first, lowest, highest and last point, in order, which draws the same steps.
fn thin(points: &[(f64, f64)], x0: f64, x1: f64) -> Vec<(f64, f64)> {
    if points.len() <= MAX_CHART_POINTS || x1 <= x0 {
        return points.to_vec();
    }
    let columns = CHART_W as usize;
    let column = |x: f64| (fraction(x, x0, x1, 0.0) * columns as f32) as usize;
    let mut out = Vec::with_capacity(4 * columns + 4);
    let mut i = 0;
    while i < points.len() {
        let c = column(points[i].0);
        let mut j = i;
        while j + 1 < points.len() && column(points[j + 1].0) == c {
            j += 1;
        }
        let bucket = &points[i..=j];
        let lowest = (0..bucket.len())
            .min_by(|&a, &b| bucket[a].1.total_cmp(&bucket[b].1))
            .unwrap_or(0);
        let highest = (0..bucket.len())
            .max_by(|&a, &b| bucket[a].1.total_cmp(&bucket[b].1))
            .unwrap_or(0);
        let mut keep = [0, lowest, highest, bucket.len() - 1];
        keep.sort_unstable();
        let mut previous = None;
        for k in keep {
            if previous != Some(k) {
                out.push(bucket[k]);
                previous = Some(k);
            }
        }
        i = j + 1;
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn push_text(
    svg: &mut String,
    x: f32,
    y: f32,
    size: f32,
    weight: Weight,
    fill: &str,
    anchor: &str,
    content: &str,
) {
    if content.is_empty() {
        return;
    }
    let weight = match weight {
        Weight::Regular => "400",
        Weight::Bold => "700",
    };
    let anchor = if anchor.is_empty() {
        String::new()
    } else {
        format!(r#" text-anchor="{anchor}""#)
    };
    let _ = write!(
        svg,
        r#"<text x="{x:.1}" y="{y:.1}" font-size="{size:.1}" font-weight="{weight}" fill="{fill}"{anchor}>{}</text>"#,
        crate::markup::escape_markup(content)
    );
}

/// Text as it may appear in the image: no control characters (XML forbids most of
/// them), runs of white space as one space.
fn clean(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `#rgb` or `#rrggbb` as given, else `fallback`: a colour goes into an attribute.
fn colour_or<'a>(colour: &'a str, fallback: &'a str) -> &'a str {
    let hex = colour.strip_prefix('#').unwrap_or("");
    if matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        colour
    } else {
        fallback
    }
}

#[cfg(test)]
mod tests;
