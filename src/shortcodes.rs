//! Shortcodes: live figures from the datasets inside a note's markdown, in Zola's
//! syntax (`{{ price(dataset="fuel-prices", series="mogas") }}`), expanded before the
//! markdown is rendered and never inside code spans or code blocks. Every value is the
//! exact price type's text; a bad call is an error naming the note's file and line.

use std::hash::Hash;
use std::ops::Range;

use chrono::NaiveDate;
use pulldown_cmark::{Event, Parser, Tag};
use xxhash_rust::xxh3::Xxh3;

use crate::chart::ChartSize;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::notes::Note;
use crate::price::{Change, Direction};
use crate::site::figures::DateStyle;
use crate::site::{keys, pages};

/// A note may draw this many charts; each is two files and a render.
pub(crate) const MAX_CHARTS_PER_NOTE: usize = 20;
/// A note may hold this many shortcodes in all.
pub(crate) const MAX_SHORTCODES_PER_NOTE: usize = 2_000;
/// The longest call read, from `{{` to `}}`.
const MAX_CALL_CHARS: usize = 1_000;

const STATS: &str = "max, min, count, first_date, last_date, max_date, rises, falls or kept";

/// A chart a note asked for: one window of one dataset, some of its series.
#[derive(Debug, Clone)]
pub(crate) struct NoteChart {
    /// Index into the build's datasets.
    pub(crate) dataset: usize,
    /// Indexes of the series drawn, in the dataset's order.
    pub(crate) series: Vec<usize>,
    pub(crate) from: NaiveDate,
    pub(crate) to: NaiveDate,
    pub(crate) title: String,
    pub(crate) description: String,
    /// Site paths (no leading `/`) and reuse keys of the wide and narrow files.
    pub(crate) wide: (String, u128),
    pub(crate) narrow: (String, u128),
}

impl NoteChart {
    pub(crate) fn file(&self, size: ChartSize) -> &(String, u128) {
        match size {
            ChartSize::Wide => &self.wide,
            ChartSize::Narrow => &self.narrow,
        }
    }
}

/// Expands every note's shortcodes in place; returns the charts they ask for (the
/// same chart asked twice is planned once). All broken notes are reported together.
pub(crate) fn expand_notes(notes: &mut [Note], datasets: &[Dataset]) -> Result<Vec<NoteChart>> {
    use rayon::prelude::*;
    let results: Vec<Result<Vec<NoteChart>>> = notes
        .par_iter_mut()
        .map(|note| {
            if !note.body.contains("{{") {
                return Ok(Vec::new());
            }
            let (body, charts) = expand(&note.body, datasets)
                .map_err(|(offset, message)| located(note, offset, message))?;
            note.body = body;
            Ok(charts)
        })
        .collect();
    let mut charts: Vec<NoteChart> = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(found) => {
                for c in found {
                    if !charts.iter().any(|o| o.wide.0 == c.wide.0) {
                        charts.push(c);
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    Error::collect(errors)?;
    Ok(charts)
}

/// The error at `offset` in the note's body, as a line of its file (front matter
/// counted). Images before it were rewritten keeping the body's line count.
fn located(note: &Note, offset: usize, message: String) -> Error {
    Error::at(&note.path, note.line_at(offset), message)
}

/// Byte ranges of code spans and code blocks, where `{{` is text.
fn code_ranges(markdown: &str) -> Vec<Range<usize>> {
    let options = crate::notes::markdown_options();
    Parser::new_ext(markdown, options)
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Code(_) | Event::Start(Tag::CodeBlock(_)) => Some(range),
            _ => None,
        })
        .collect()
}

type Failure = (usize, String);

/// The body with every shortcode replaced, or the offset and message of the first bad one.
fn expand(
    body: &str,
    datasets: &[Dataset],
) -> std::result::Result<(String, Vec<NoteChart>), Failure> {
    let code = code_ranges(body);
    let mut out = String::with_capacity(body.len());
    let mut charts = Vec::new();
    let mut done = 0;
    let mut calls = 0;
    let mut search = 0;
    while let Some(found) = body[search..].find("{{") {
        let start = search + found;
        if let Some(r) = code.iter().find(|r| r.contains(&start)) {
            search = r.end.max(start + 2);
            continue;
        }
        calls += 1;
        if calls > MAX_SHORTCODES_PER_NOTE {
            return Err((
                start,
                format!("more than {MAX_SHORTCODES_PER_NOTE} shortcodes in one note"),
            ));
        }
        let call = parse_call(&body[start..]).map_err(|m| (start, m))?;
        let html = evaluate(&call, datasets, &mut charts).map_err(|m| (start, m))?;
        if charts.len() > MAX_CHARTS_PER_NOTE {
            return Err((
                start,
                format!("more than {MAX_CHARTS_PER_NOTE} charts in one note"),
            ));
        }
        out.push_str(&body[done..start]);
        out.push_str(&html);
        done = start + call.len;
        search = done;
    }
    out.push_str(&body[done..]);
    Ok((out, charts))
}

struct Call<'a> {
    name: &'a str,
    args: Vec<(&'a str, &'a str)>,
    /// Bytes from `{{` to the end of `}}`.
    len: usize,
}

const SYNTAX: &str = "want {{ name(key=\"value\", …) }}";

/// Reads `{{ name(key="value", …) }}` at the start of `s`. Hand-written: the grammar
/// is five tokens, and a template engine would also accept what Zola does not.
fn parse_call(s: &str) -> std::result::Result<Call<'_>, String> {
    let end = s
        .find("}}")
        .filter(|&e| e <= MAX_CALL_CHARS)
        .ok_or_else(|| {
            format!("shortcode opened with `{{{{` is not closed by `}}}}` ({SYNTAX})")
        })?;
    let inner = s[2..end].trim();
    let malformed =
        |why: &str| format!("malformed shortcode `{}`: {why} ({SYNTAX})", &s[..end + 2]);
    let open = inner
        .find('(')
        .ok_or_else(|| malformed("no `(` after the name"))?;
    let name = inner[..open].trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(malformed("the name must be letters, digits and `_`"));
    }
    let rest = inner[open + 1..]
        .strip_suffix(')')
        .ok_or_else(|| malformed("the arguments must end with `)`"))?;
    let mut args: Vec<(&str, &str)> = Vec::new();
    let mut rest = rest.trim_start();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| malformed("each argument is key=\"value\""))?;
        let key = rest[..eq].trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(malformed("each argument is key=\"value\""));
        }
        let after = rest[eq + 1..].trim_start();
        let value_and_more = after
            .strip_prefix('"')
            .ok_or_else(|| malformed(&format!("the value of `{key}` must be a quoted string")))?;
        let close = value_and_more
            .find('"')
            .ok_or_else(|| malformed(&format!("the value of `{key}` has no closing `\"`")))?;
        if args.iter().any(|(k, _)| *k == key) {
            return Err(malformed(&format!("`{key}` is given twice")));
        }
        args.push((key, &value_and_more[..close]));
        rest = value_and_more[close + 1..].trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r.trim_start();
        } else if !rest.is_empty() {
            return Err(malformed("arguments are separated by `,`"));
        }
    }
    Ok(Call {
        name,
        args,
        len: end + 2,
    })
}

/// A call's arguments, checked against what its shortcode takes.
struct Args<'a> {
    name: &'a str,
    args: &'a [(&'a str, &'a str)],
}

impl<'a> Args<'a> {
    fn new(call: &'a Call, allowed: &[&str]) -> std::result::Result<Args<'a>, String> {
        if let Some((k, _)) = call.args.iter().find(|(k, _)| !allowed.contains(k)) {
            return Err(format!(
                "unknown argument `{k}` for `{}` (it takes {})",
                call.name,
                allowed.join(", ")
            ));
        }
        Ok(Args {
            name: call.name,
            args: &call.args,
        })
    }
    fn get(&self, key: &str) -> Option<&'a str> {
        self.args.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
    fn required(&self, key: &str) -> std::result::Result<&'a str, String> {
        self.get(key)
            .ok_or_else(|| format!("`{}` needs the argument `{key}`", self.name))
    }
    fn dataset(
        &self,
        datasets: &'a [Dataset],
    ) -> std::result::Result<(usize, &'a Dataset), String> {
        let slug = self.required("dataset")?;
        datasets
            .iter()
            .enumerate()
            .find(|(_, d)| d.slug == slug)
            .ok_or_else(|| {
                let names: Vec<&str> = datasets.iter().map(|d| d.slug.as_str()).collect();
                format!("unknown dataset {slug:?} (there are: {})", names.join(", "))
            })
    }
    fn date(&self, key: &str, d: &Dataset) -> std::result::Result<Option<NaiveDate>, String> {
        let Some(text) = self.get(key) else {
            return Ok(None);
        };
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("`{key}` {text:?} is not a date (want YYYY-MM-DD)"))?;
        if date < d.first_date() || date > d.last_date() {
            return Err(format!(
                "`{key}` {text} is outside the data of {:?}, which runs from {} to {}",
                d.slug,
                d.first_date(),
                d.last_date()
            ));
        }
        Ok(Some(date))
    }
}

fn series_index(d: &Dataset, key: &str) -> std::result::Result<usize, String> {
    d.series.iter().position(|s| s.key == key).ok_or_else(|| {
        let names: Vec<&str> = d.series.iter().map(|s| s.key.as_str()).collect();
        format!(
            "unknown series {key:?} in {:?} (there are: {})",
            d.slug,
            names.join(", ")
        )
    })
}

fn evaluate(
    call: &Call,
    datasets: &[Dataset],
    charts: &mut Vec<NoteChart>,
) -> std::result::Result<String, String> {
    match call.name {
        "price" => {
            let a = Args::new(call, &["dataset", "series", "date"])?;
            let (_, d) = a.dataset(datasets)?;
            let i = series_index(d, a.required("series")?)?;
            let t = &d.table;
            let row = match a.date("date", d)? {
                // The decision in force on that day: the last one on or before it.
                Some(day) => t.dates.partition_point(|r| *r <= day) - 1,
                None => t.len() - 1,
            };
            Ok(t.value(row, i).format(d.series[i].decimals))
        }
        "change" => {
            let a = Args::new(call, &["dataset", "series"])?;
            let (_, d) = a.dataset(datasets)?;
            let i = series_index(d, a.required("series")?)?;
            let column = &d.table.values[i];
            let change = (column.len() >= 2)
                .then(|| Change::between(column[column.len() - 2], column[column.len() - 1]));
            Ok(pages::change_context(change, d.series[i].decimals, &d.currency).text)
        }
        "stat" => {
            let a = Args::new(call, &["dataset", "series", "what"])?;
            let (_, d) = a.dataset(datasets)?;
            let i = series_index(d, a.required("series")?)?;
            let what = a.required("what")?;
            let column = &d.table.values[i];
            let style = DateStyle::of(d);
            let decimals = d.series[i].decimals;
            // The first row holding the extreme: when the record was set.
            let max = (0..column.len()).fold(0, |m, r| if column[r] > column[m] { r } else { m });
            let min = (0..column.len()).fold(0, |m, r| if column[r] < column[m] { r } else { m });
            Ok(match what {
                "max" => column[max].format(decimals),
                "min" => column[min].format(decimals),
                "max_date" => style.long(d.table.dates[max]),
                "count" => column.len().to_string(),
                "rises" | "falls" | "kept" => {
                    let want = match what {
                        "rises" => Direction::Up,
                        "falls" => Direction::Down,
                        _ => Direction::Unchanged,
                    };
                    column
                        .windows(2)
                        .filter(|w| Change::between(w[0], w[1]).direction() == want)
                        .count()
                        .to_string()
                }
                "first_date" => style.long(d.first_date()),
                "last_date" => style.long(d.last_date()),
                other => return Err(format!("unknown stat {other:?} (want {STATS})")),
            })
        }
        "chart" => {
            let a = Args::new(call, &["dataset", "series", "from", "to"])?;
            let (index, d) = a.dataset(datasets)?;
            let from = a
                .date("from", d)?
                .ok_or_else(|| "`chart` needs the argument `from`".to_string())?;
            let to = a.date("to", d)?.unwrap_or(d.last_date());
            if from >= to {
                return Err(format!("`from` {from} must be before `to` {to}"));
            }
            let series = match a.get("series") {
                None => (0..d.series.len()).collect(),
                Some(list) => list
                    .split(',')
                    .map(|k| series_index(d, k.trim()))
                    .collect::<std::result::Result<Vec<usize>, String>>()?,
            };
            let chart = note_chart(index, d, series, from, to);
            let html = figure(d, &chart);
            charts.push(chart);
            Ok(html)
        }
        other => Err(format!(
            "unknown shortcode `{other}` (there are price, change, stat and chart)"
        )),
    }
}

fn note_chart(
    index: usize,
    d: &Dataset,
    series: Vec<usize>,
    from: NaiveDate,
    to: NaiveDate,
) -> NoteChart {
    let style = DateStyle::of(d);
    let labels: Vec<&str> = series.iter().map(|&i| d.series[i].label.as_str()).collect();
    let dates = &d.table.dates;
    let shown = dates.iter().filter(|r| **r >= from && **r <= to).count();
    let at_end = dates.partition_point(|r| *r <= to) - 1;
    let currency = if d.currency.is_empty() {
        String::new()
    } else {
        format!("{} ", d.currency)
    };
    let values: Vec<String> = series
        .iter()
        .map(|&i| {
            format!(
                "{} {currency}{}",
                d.series[i].label,
                d.table.value(at_end, i).format(d.series[i].decimals)
            )
        })
        .collect();
    let unit = if d.unit.is_empty() {
        String::new()
    } else {
        format!(" in {}", d.unit)
    };
    let title = format!(
        "{}, {}: {} to {}",
        d.title,
        labels.join(" and "),
        style.long(from),
        style.long(to)
    );
    let description = format!(
        "Step chart of {}{unit}, {shown} decisions from {} to {}. On {}: {}.",
        labels.join(" and "),
        style.long(from),
        style.long(to),
        style.long(to),
        values.join(", ")
    );
    let file = |size: ChartSize, suffix: &str| {
        let mut h = Xxh3::new();
        (keys::PROGRAM_ID, "note-chart", size).hash(&mut h);
        keys::dataset(d, &mut h);
        (&series, from, to).hash(&mut h);
        let key = h.digest128();
        (
            format!(
                "charts/{}-note{suffix}.{}.svg",
                d.slug,
                keys::short_hex(key)
            ),
            key,
        )
    };
    NoteChart {
        dataset: index,
        wide: file(ChartSize::Wide, ""),
        narrow: file(ChartSize::Narrow, "-narrow"),
        series,
        from,
        to,
        title,
        description,
    }
}

/// The figure a chart shortcode becomes: the chart at two sizes, its title, and a
/// link to the rows it draws (the year's page when it fits in one year).
fn figure(d: &Dataset, chart: &NoteChart) -> String {
    use crate::markup::escape_markup as esc;
    let (table, link_text) =
        if chart.from.format("%Y").to_string() == chart.to.format("%Y").to_string() {
            let year: i32 = chart
                .to
                .format("%Y")
                .to_string()
                .parse()
                .unwrap_or_default();
            (
                pages::year_url(&d.slug, year),
                format!("The {year} decisions as a table"),
            )
        } else {
            (
                pages::dataset_url(&d.slug),
                "Every decision as a table".to_string(),
            )
        };
    format!(
        "\n\n<figure class=\"note-chart\"><picture><source media=\"(max-width: 600px)\" srcset=\"/{narrow}\"><img src=\"/{wide}\" width=\"960\" height=\"440\" alt=\"{alt}\" loading=\"lazy\"></picture><figcaption>{title}. <a href=\"{table}\">{link_text}</a></figcaption></figure>\n\n",
        narrow = esc(&chart.narrow.0),
        wide = esc(&chart.wide.0),
        alt = esc(&chart.description),
        title = esc(&chart.title),
        table = esc(&table),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn code_is_skipped_and_calls_are_read() {
        let (out, _) = expand("`{{ x }}` and\n\n```\n{{ y }}\n```\n", &[]).unwrap();
        assert_eq!(out, "`{{ x }}` and\n\n```\n{{ y }}\n```\n");
        let call = parse_call("{{ price(a=\"1\", b = \"2\") }} tail").unwrap();
        assert_eq!(
            (call.name, call.args, call.len),
            ("price", vec![("a", "1"), ("b", "2")], 27)
        );
        let (offset, message) = expand("ok\n{{ price() }}", &[]).unwrap_err();
        assert_eq!(offset, 3);
        assert!(
            message.contains("needs the argument `dataset`"),
            "{message}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn any_text_expands_or_fails_without_panicking(
            body in "[{}()=\",a-z \\n`é]{0,80}",
        ) {
            let _ = expand(&body, &[]);
            let _ = parse_call(&format!("{{{{{body}"));
        }
    }
}
