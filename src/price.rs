//! The one exact value type for published prices, the change between two of them and
//! its direction, and the one formatter for both.
//!
//! A value is a non-negative decimal with at most [`MAX_INT_DIGITS`] digits before the
//! point and [`MAX_DECIMALS`] after it, stored as an integer count of millionths. That
//! range fits an `i64` with room for differences, so parsing, comparison, change and
//! formatting are exact integer arithmetic: the digits published are the digits read.
//! (Integer minor units rather than a general decimal crate: the rules are this narrow,
//! and a fixed-scale `i64` is `Copy`, allocation-free and exact for every allowed value.)
//! Floats appear only in [`Price::to_f64`], for chart geometry.

/// Most digits allowed before the decimal point.
pub(crate) const MAX_INT_DIGITS: usize = 12;
/// Most digits allowed after the decimal point.
pub(crate) const MAX_DECIMALS: usize = 6;
const SCALE: i64 = 1_000_000;
const POW10: [i64; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/// What a value may look like, for messages.
pub(crate) const RULE: &str =
    "want a plain number ≥ 0 such as 64.25, at most 12 digits before the point and 6 after";

/// An exact non-negative decimal value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Price {
    micros: i64,
}

impl Price {
    /// Parses `64`, `64.2`, `64.25`: no sign, exponent, NaN, infinity or spaces. Returns
    /// the value and how many digits it had after the point, or why it is refused.
    pub(crate) fn parse(s: &str) -> Result<(Price, usize), String> {
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (s, None),
        };
        let digits = |p: &str| p.bytes().all(|c| c.is_ascii_digit());
        if int.is_empty() || !digits(int) || frac.is_some_and(|f| f.is_empty() || !digits(f)) {
            return Err(format!("{} is not a price ({RULE})", shorten(s)));
        }
        let frac = frac.unwrap_or("");
        let significant = int.trim_start_matches('0');
        if significant.len() > MAX_INT_DIGITS {
            return Err(format!(
                "{} has {} digits before the point ({RULE})",
                shorten(s),
                significant.len()
            ));
        }
        if frac.len() > MAX_DECIMALS {
            return Err(format!(
                "{} has {} digits after the point ({RULE})",
                shorten(s),
                frac.len()
            ));
        }
        let number = |p: &str| p.bytes().fold(0i64, |n, c| n * 10 + i64::from(c - b'0'));
        let micros = number(significant) * SCALE + number(frac) * POW10[MAX_DECIMALS - frac.len()];
        Ok((Price { micros }, frac.len()))
    }

    /// For chart geometry only; never for a published figure.
    pub(crate) fn to_f64(self) -> f64 {
        self.micros as f64 / SCALE as f64
    }

    /// The exact value in millionths, for hashing.
    pub(crate) fn micros(self) -> i64 {
        self.micros
    }

    pub(crate) fn is_zero(self) -> bool {
        self.micros == 0
    }

    /// Appends the value with exactly `decimals` digits after the point (0–6). Values
    /// have at most their column's decimals, so nothing is rounded.
    pub(crate) fn write(self, out: &mut String, decimals: usize) {
        write_micros(out, self.micros, decimals);
    }

    pub(crate) fn format(self, decimals: usize) -> String {
        let mut out = String::with_capacity(16);
        self.write(&mut out, decimals);
        out
    }

    /// `self × n`, exact: the cost of `n` whole units (a full tank of `n` litres).
    /// `None` if it would not fit (only for values near the 12-digit limit).
    pub(crate) fn times(self, n: u32) -> Option<Price> {
        self.micros
            .checked_mul(i64::from(n))
            .map(|micros| Price { micros })
    }

    /// The mean of `values`, rounded half away from zero to `decimals` places, so it
    /// reads with its column's digits without being rounded twice. `None` when empty.
    pub(crate) fn mean(values: &[Price], decimals: usize) -> Option<Price> {
        if values.is_empty() {
            return None;
        }
        let unit = i128::from(POW10[MAX_DECIMALS - decimals.min(MAX_DECIMALS)]);
        let sum: i128 = values.iter().map(|v| i128::from(v.micros)).sum();
        let den = values.len() as i128 * unit;
        let units = (sum + den / 2) / den;
        Some(Price {
            micros: (units * unit) as i64,
        })
    }

    /// The shortest exact text: `15.00` → `15`, `24.50` → `24.5`. JSON numbers.
    pub(crate) fn write_trimmed(self, out: &mut String) {
        let start = out.len();
        self.write(out, MAX_DECIMALS);
        let trimmed = out[start..]
            .trim_end_matches('0')
            .trim_end_matches('.')
            .len();
        out.truncate(start + trimmed);
    }
}

fn write_micros(out: &mut String, micros: i64, decimals: usize) {
    let decimals = decimals.min(MAX_DECIMALS);
    let unit = POW10[MAX_DECIMALS - decimals];
    // Only the percent path can ask for fewer decimals than the value has; it rounds
    // half away from zero.
    let scaled = (micros.abs() + unit / 2) / unit;
    if micros < 0 && scaled != 0 {
        out.push('-');
    }
    let one = POW10[decimals];
    // itoa rather than `write!`: a big dataset's year pages and downloads write
    // millions of values, and the formatting machinery was a tenth of their time.
    out.push_str(itoa::Buffer::new().format(scaled / one));
    if decimals > 0 {
        out.push('.');
        write_padded(out, scaled % one, decimals);
    }
}

/// `n` (< 10^`width`) with leading zeros to `width` digits.
fn write_padded(out: &mut String, n: i64, width: usize) {
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(n);
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(digits);
}

/// `s` quoted for a message, cut to its first 20 characters when over 40 bytes: a
/// message quotes what it refuses, and what it refuses can be megabytes.
pub(crate) fn shorten(s: &str) -> String {
    if s.len() <= 40 {
        format!("{s:?}")
    } else {
        let cut = s.char_indices().nth(20).map_or(s.len(), |(i, _)| i);
        format!("{:?}… ({} characters)", &s[..cut], s.chars().count())
    }
}

/// Which way a decision moved a price. A kept price is a real decision, not a rise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Up,
    Down,
    Unchanged,
}

impl Direction {
    /// The word pages use as a CSS class and in text.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Unchanged => "unchanged",
        }
    }
    /// `+`, `−` (a true minus sign) or nothing.
    pub(crate) fn sign(self) -> &'static str {
        match self {
            Direction::Up => "+",
            Direction::Down => "−",
            Direction::Unchanged => "",
        }
    }
}

/// The exact difference between two consecutive decisions of one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Change {
    /// `current − previous`, in millionths.
    amount: i64,
    /// Relative to the previous value in tenths of a percent, rounded half away from
    /// zero; `None` when the previous value was 0. An `i128`: from 0.000001 to
    /// 999999999999.999999 is 10^20 %, far past `i64`.
    percent_tenths: Option<i128>,
}

impl Change {
    pub(crate) fn between(previous: Price, current: Price) -> Change {
        let amount = current.micros - previous.micros;
        let percent_tenths = (!previous.is_zero()).then(|| {
            let num = i128::from(amount) * 1000;
            let den = i128::from(previous.micros);
            let q = (num.abs() + den / 2) / den;
            if num < 0 {
                -q
            } else {
                q
            }
        });
        Change {
            amount,
            percent_tenths,
        }
    }

    pub(crate) fn direction(&self) -> Direction {
        match self.amount.signum() {
            1 => Direction::Up,
            -1 => Direction::Down,
            _ => Direction::Unchanged,
        }
    }

    /// The change as text, with the column's `decimals`.
    pub(crate) fn text(&self, decimals: usize) -> ChangeText {
        let mut magnitude = String::new();
        write_micros(&mut magnitude, self.amount.abs(), decimals);
        let mut percent = String::new();
        self.write_percent(&mut percent);
        ChangeText {
            direction: self.direction(),
            magnitude,
            percent,
        }
    }

    /// Appends [`ChangeText::signed`]'s text (`+5.80`, `−2.80`, `0.00`) without
    /// allocating: a big dataset's year pages write it for every value.
    pub(crate) fn write_signed(&self, out: &mut String, decimals: usize) {
        out.push_str(self.direction().sign());
        write_micros(out, self.amount.abs(), decimals);
    }

    /// Appends [`ChangeText::percent`]'s text (`+9.9%`); nothing, and false, when
    /// unchanged or the previous value was 0.
    pub(crate) fn write_percent(&self, out: &mut String) -> bool {
        let direction = self.direction();
        match self.percent_tenths {
            Some(p) if direction != Direction::Unchanged => {
                out.push_str(direction.sign());
                out.push_str(itoa::Buffer::new().format(p.abs() / 10));
                out.push('.');
                out.push_str(itoa::Buffer::new().format(p.abs() % 10));
                out.push('%');
                true
            }
            _ => false,
        }
    }
}

/// The one rendering of a [`Change`]; every page, feed and command line builds its
/// wording from these parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChangeText {
    pub(crate) direction: Direction,
    /// `5.80`: the size of the change, no sign.
    pub(crate) magnitude: String,
    /// `+9.9%`, or empty when unchanged or the previous value was 0.
    pub(crate) percent: String,
}

impl ChangeText {
    /// `+5.80`, `−2.80`, `0.00`.
    pub(crate) fn signed(&self) -> String {
        format!("{}{}", self.direction.sign(), self.magnitude)
    }
    /// `+1.75, +2.7%` or `+1.75` or `unchanged`: the command line's wording.
    pub(crate) fn short(&self) -> String {
        match (self.direction, self.percent.is_empty()) {
            (Direction::Unchanged, _) => "unchanged".into(),
            (_, true) => self.signed(),
            (_, false) => format!("{}, {}", self.signed(), self.percent),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap().0
    }

    #[test]
    fn parses_exactly_and_refuses_what_is_outside_the_rules() {
        assert_eq!(Price::parse("64.25"), Ok((p("64.250"), 2)));
        assert_eq!(p("123456789012.123456").format(6), "123456789012.123456");
        assert_eq!(p("000000000000064.5").format(2), "64.50");
        for bad in [
            "",
            ".5",
            "5.",
            "-1",
            "+1",
            "1e3",
            "NaN",
            "inf",
            " 1",
            "1,5",
            "1.2.3",
            "1234567890123",
            "1.1234567",
        ] {
            assert!(Price::parse(bad).is_err(), "{bad}");
        }
        let e = Price::parse(&format!("143{}", "0".repeat(306))).unwrap_err();
        assert!(e.contains("309 digits before the point"), "{e}");
        let e = Price::parse(&format!("1.{}", "5".repeat(65_536))).unwrap_err();
        assert!(
            e.contains("65536 digits after the point") && e.len() < 200,
            "{e}"
        );
    }

    #[test]
    fn change_is_exact_with_one_direction() {
        let c = Change::between(p("49.65"), p("49.65"));
        assert_eq!(c.direction(), Direction::Unchanged);
        assert_eq!(c.text(2).short(), "unchanged");
        let t = Change::between(p("69.00"), p("66.20")).text(2);
        assert_eq!((t.signed(), t.percent.as_str()), ("−2.80".into(), "−4.1%"));
        let t = Change::between(p("64.25"), p("70.65")).text(2);
        assert_eq!(t.short(), "+6.40, +10.0%");
        let t = Change::between(p("0"), p("1.5")).text(1);
        assert_eq!(t.short(), "+1.5");
    }

    #[test]
    fn mean_and_times_are_exact() {
        let v = [p("61.20"), p("61.20"), p("58.45")];
        assert_eq!(Price::mean(&v, 2).unwrap().format(2), "60.28");
        assert_eq!(
            Price::mean(&[p("0.01"), p("0.02")], 2).unwrap().format(2),
            "0.02"
        );
        assert_eq!(Price::mean(&[], 2), None);
        assert_eq!(p("71.25").times(40).unwrap().format(2), "2850.00");
    }

    proptest! {
        #[test]
        fn every_allowed_text_round_trips(int in "[0-9]{1,12}", frac in "[0-9]{0,6}") {
            let text = if frac.is_empty() { int.clone() } else { format!("{int}.{frac}") };
            let (value, places) = Price::parse(&text).unwrap();
            prop_assert_eq!(places, frac.len());
            let int = match int.trim_start_matches('0') {
                "" => "0",
                digits => digits,
            };
            let want = if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") };
            prop_assert_eq!(value.format(places), want);
        }

        #[test]
        fn any_text_parses_or_is_refused_without_panicking(s in "\\PC{0,40}") {
            let _ = Price::parse(&s);
        }
    }
}
