use super::*;

fn fuel_card() -> Card {
    let mogas: Vec<(f64, f64)> = (0..120)
        .map(|i| {
            (
                i as f64,
                30.0 + (i as f64 / 3.0).sin() * 8.0 + i as f64 * 0.3,
            )
        })
        .collect();
    let gasoil: Vec<(f64, f64)> = mogas.iter().map(|&(x, y)| (x, y - 6.0)).collect();
    Card {
        site_title: "Petrol Watch".into(),
        title: "Retail fuel prices".into(),
        lines: vec![
            Line {
                label: "Mogas (petrol)".into(),
                value: "Rs 70.65".into(),
                change: "up Rs 1.50 (+2.2%)".into(),
                direction: Direction::Up,
                colour: "#e8590c".into(),
            },
            Line {
                label: "Gas Oil (diesel)".into(),
                value: "Rs 71.25".into(),
                change: "unchanged".into(),
                direction: Direction::Unchanged,
                colour: "#1c7ed6".into(),
            },
        ],
        date_line: "Decision of 15 August 2026".into(),
        chart: Some(Chart {
            series: vec![
                ChartSeries {
                    colour: "#e8590c".into(),
                    points: mogas,
                },
                ChartSeries {
                    colour: "#1c7ed6".into(),
                    points: gasoil,
                },
            ],
            start_label: "2004".into(),
            end_label: "2026".into(),
        }),
        accent: "#e8590c".into(),
    }
}

fn note_card(title: &str) -> Card {
    Card {
        site_title: "Petrol Watch".into(),
        title: title.into(),
        date_line: "Note · 20 April 2026".into(),
        accent: "#e8590c".into(),
        ..Card::default()
    }
}

/// Width and height from the IHDR chunk, after checking the signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
}

/// Writes a sample to look at when `SHARE_SAMPLES` names a folder.
fn sample(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("SHARE_SAMPLES") {
        std::fs::write(std::path::Path::new(&dir).join(name), bytes).unwrap();
    }
}

/// Every painted node's box, as usvg lays the card out.
fn boxes(card: &Card) -> Vec<usvg::Rect> {
    let options = usvg::Options {
        font_family: text::FAMILY.to_string(),
        fontdb: text::fontdb(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(&card_svg(card), &options).expect("valid SVG");
    fn walk(group: &usvg::Group, out: &mut Vec<usvg::Rect>) {
        for node in group.children() {
            match node {
                usvg::Node::Group(g) => walk(g, out),
                usvg::Node::Text(t) => out.push(t.abs_bounding_box()),
                other => out.push(other.abs_bounding_box()),
            }
        }
    }
    let mut out = Vec::new();
    walk(tree.root(), &mut out);
    out
}

fn text_count(card: &Card) -> usize {
    card_svg(card).matches("<text").count()
}

#[test]
fn renders_a_1200_by_630_png() {
    let png = render_png(&fuel_card()).unwrap();
    sample("fuel.png", &png);
    assert_eq!(png_size(&png), (1200, 630));
    assert!(
        png.len() > 5_000,
        "an image with text, not a blank: {} bytes",
        png.len()
    );
}

#[test]
fn same_card_same_bytes() {
    let a = render_png(&fuel_card()).unwrap();
    let b = render_png(&fuel_card()).unwrap();
    assert!(a == b, "rendering is deterministic");
    let mut other = fuel_card();
    other.lines[0].value = "Rs 72.15".into();
    assert!(
        render_png(&other).unwrap() != a,
        "a new price makes a new image"
    );
}

#[test]
fn renders_with_no_one_or_many_chart_points() {
    for n in [0usize, 1, 2, 50_000] {
        let mut card = fuel_card();
        let chart = card.chart.as_mut().unwrap();
        chart.series.truncate(1);
        chart.series[0].points = (0..n).map(|i| (i as f64, (i % 7) as f64)).collect();
        let png = render_png(&card).unwrap();
        assert_eq!(png_size(&png), (1200, 630), "{n} points");
        let svg = card_svg(&card);
        assert_eq!(svg.contains("<path"), n > 0, "{n} points");
        // A long series is thinned, but keeps its steps.
        assert!(
            svg.len() < 200_000,
            "{n} points: {} bytes of SVG",
            svg.len()
        );
        sample(&format!("points-{n}.png"), &png);
    }
    // Non-finite points are dropped, not drawn or panicked on.
    let mut card = fuel_card();
    card.chart.as_mut().unwrap().series[0].points =
        vec![(0.0, f64::NAN), (f64::INFINITY, 1.0), (1.0, 2.0)];
    assert_eq!(png_size(&render_png(&card).unwrap()), (1200, 630));
}

#[test]
fn thinning_keeps_extremes_and_the_last_point() {
    let points: Vec<(f64, f64)> = (0..100_000)
        .map(|i| (i as f64, if i == 51_234 { 99.0 } else { (i % 5) as f64 }))
        .collect();
    let thinned = thin(&points, 0.0, 99_999.0);
    assert!(
        thinned.len() <= 4 * CHART_W as usize + 4,
        "{}",
        thinned.len()
    );
    assert!(thinned.contains(&(51_234.0, 99.0)), "the spike survives");
    assert_eq!(thinned.last(), points.last());
    assert!(thinned.windows(2).all(|w| w[0].0 < w[1].0), "still ordered");
}

#[test]
fn one_to_three_lines_all_show_and_more_are_left_out() {
    for n in 1..=5usize {
        let mut card = fuel_card();
        card.lines = (0..n)
            .map(|i| Line {
                label: format!("Series {i}"),
                value: format!("Rs {}.25", 100 + i),
                change: "down Rs 0.50 (−0.5%)".into(),
                direction: Direction::Down,
                colour: "#1c7ed6".into(),
            })
            .collect();
        let svg = card_svg(&card);
        for i in 0..n.min(MAX_LINES) {
            assert!(svg.contains(&format!("Rs {}.25", 100 + i)), "{n} lines");
        }
        assert!(!svg.contains("Rs 103.25"), "a fourth line is left out");
        assert_in_bounds(&card);
    }
}

#[test]
fn changes_are_told_in_words_and_marks() {
    let svg = card_svg(&fuel_card());
    assert!(svg.contains("▲ up Rs 1.50 (+2.2%)"), "{svg}");
    assert!(svg.contains("= unchanged"));
    assert!(svg.contains("Decision of 15 August 2026"));
}

/// Nothing may be drawn outside the image, whatever the text.
fn assert_in_bounds(card: &Card) {
    for b in boxes(card) {
        assert!(
            b.left() >= 0.0 && b.top() >= 0.0 && b.right() <= 1200.0 && b.bottom() <= 630.0,
            "{b:?} outside 1200×630"
        );
    }
}

#[test]
fn long_titles_are_wrapped_or_clipped_never_overflowing() {
    let long = "Why the pump price held for eight months while Brent crude fell by a third: \
                the Price Stabilisation Account, the automatic pricing mechanism and the \
                decisions of the Petroleum Pricing Committee explained step by step";
    let card = note_card(long);
    assert_in_bounds(&card);
    let svg = card_svg(&card);
    assert!(svg.contains('…'), "a cut title says so");
    assert!(text_count(&card) >= 4, "wrapped over several lines");
    sample("note-long.png", &render_png(&card).unwrap());

    let short = note_card("How Mauritius sets fuel prices");
    assert_in_bounds(&short);
    assert!(!card_svg(&short).contains('…'));
    sample("note.png", &render_png(&short).unwrap());

    let unbroken = note_card(&"W".repeat(400));
    assert_in_bounds(&unbroken);

    let mut wide = fuel_card();
    wide.title = long.into();
    wide.site_title = "A site title of quite some length indeed".into();
    wide.lines[0].label = long.into();
    wide.lines[0].value = "Rs 123,456,789.00".into();
    wide.lines[1].change = long.into();
    wide.date_line = long.into();
    wide.chart.as_mut().unwrap().end_label = long.into();
    assert_in_bounds(&wide);
    sample("wide.png", &render_png(&wide).unwrap());
}

#[test]
fn hostile_text_and_colours_are_neutralised() {
    let mut card = fuel_card();
    card.title = "<script>&\u{1}\"'</script>".into();
    card.lines[0].colour = "red\" onload=\"x".into();
    card.accent = "url(#x)".into();
    card.date_line = "\u{0}\u{7}".into();
    let svg = card_svg(&card);
    assert!(!svg.contains("<script>") && !svg.contains('\u{1}') && !svg.contains("onload"));
    assert_eq!(png_size(&render_png(&card).unwrap()), (1200, 630));
    assert_eq!(
        png_size(&render_png(&Card::default()).unwrap()),
        (1200, 630)
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter)
    }

    fn line() -> impl Strategy<Value = Line> {
        (text(60), text(30), text(60), 0..4u8, text(8)).prop_map(
            |(label, value, change, d, colour)| Line {
                label,
                value,
                change,
                direction: [
                    Direction::Up,
                    Direction::Down,
                    Direction::Unchanged,
                    Direction::None,
                ][d as usize],
                colour,
            },
        )
    }

    fn chart() -> impl Strategy<Value = Option<Chart>> {
        proptest::option::of(
            (
                proptest::collection::vec(
                    proptest::collection::vec((any::<f64>(), any::<f64>()), 0..40),
                    0..4,
                ),
                text(20),
                text(20),
            )
                .prop_map(|(series, start_label, end_label)| Chart {
                    series: series
                        .into_iter()
                        .map(|points| ChartSeries {
                            colour: "#123456".into(),
                            points,
                        })
                        .collect(),
                    start_label,
                    end_label,
                }),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        /// Whatever the text, values and points: a 1200×630 PNG, nothing drawn outside.
        #[test]
        fn any_card_renders_inside_the_image(
            site_title in text(80),
            title in text(300),
            lines in proptest::collection::vec(line(), 0..5),
            date_line in text(80),
            chart in chart(),
            accent in text(8),
        ) {
            let card = Card { site_title, title, lines, date_line, chart, accent };
            let png = render_png(&card).expect("renders");
            prop_assert_eq!(png_size(&png), (1200, 630));
            for b in boxes(&card) {
                prop_assert!(
                    b.left() >= 0.0 && b.top() >= 0.0 && b.right() <= 1200.0 && b.bottom() <= 630.0,
                    "{:?} outside", b
                );
            }
        }
    }
}

#[test]
fn cards_decode_to_the_pixels_drawn() {
    // Whichever way a card is encoded (indexed or RGB), decoding it gives back exactly
    // the rasterised pixels.
    // A white accent makes the first pixel 0xFFFFFFFF as a word, which the palette
    // once took for "no pixel yet".
    let mut white = fuel_card();
    white.accent = "#ffffff".into();
    for card in [
        note_card("From Flask and PostgreSQL to a static site"),
        fuel_card(),
        white,
    ] {
        let svg = card_svg(&card);
        let options = usvg::Options {
            font_family: text::FAMILY.to_string(),
            fontdb: text::fontdb(),
            ..usvg::Options::default()
        };
        let tree = usvg::Tree::from_str(&svg, &options).unwrap();
        let mut pixmap = tiny_skia::Pixmap::new(WIDTH, HEIGHT).unwrap();
        resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
        let png = render_png(&card).unwrap();
        let mut decoder = png::Decoder::new(std::io::Cursor::new(&png));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let drawn: Vec<u8> = pixmap
            .data()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        assert!(buf[..info.buffer_size()] == drawn[..], "pixels differ");
    }
}

#[test]
fn a_note_card_is_indexed() {
    let png = render_png(&note_card(
        "A workshop note with a long enough title to wrap",
    ))
    .unwrap();
    let reader = png::Decoder::new(std::io::Cursor::new(&png))
        .read_info()
        .unwrap();
    assert_eq!(reader.info().color_type, png::ColorType::Indexed);
}

proptest::proptest! {
    /// The palette and indices give back every opaque pixel, whatever the colours
    /// (opaque white included) and however long their runs.
    #[test]
    fn the_palette_gives_back_every_pixel(
        runs in proptest::collection::vec((0usize..6, 1usize..40), 1..60),
    ) {
        let colours = [
            [255, 255, 255, 255], [0, 0, 0, 255], [251, 250, 248, 255],
            [232, 89, 12, 255], [255, 255, 255, 254], [1, 2, 3, 255],
        ];
        let rgba: Vec<u8> = runs
            .iter()
            .flat_map(|&(c, n)| std::iter::repeat_n(colours[c], n).flatten())
            .collect();
        match super::palette(&rgba) {
            Some((rgb, indices)) => {
                let back: Vec<u8> = indices
                    .iter()
                    .flat_map(|&i| {
                        let at = usize::from(i) * 3;
                        [rgb[at], rgb[at + 1], rgb[at + 2], 255]
                    })
                    .collect();
                proptest::prop_assert_eq!(back, rgba);
            }
            None => proptest::prop_assert!(rgba.chunks_exact(4).any(|p| p[3] != 255)),
        }
    }
}
