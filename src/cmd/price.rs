//! `price add|list|remove`: the maintainer's hand edits of a dataset.

use std::ffi::OsString;
use std::path::Path;

use crate::maintain::price;

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Add a row: `price add --date 2026-12-01 mogas=66.00 gasoil=72.50`.
    ///
    /// Every series of the dataset needs exactly one value. `--mogas 66.00` is accepted
    /// as another spelling of `mogas=66.00`.
    Add {
        /// The decision date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// Change the row if the date already has one.
        #[arg(long)]
        replace: bool,
        /// Dataset (file name in data/ without .csv); default: site.toml's primary_dataset.
        #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
        dataset: Option<String>,
        /// One value per series, by column name: mogas=66.00 gasoil=72.50.
        #[arg(value_name = "SERIES=VALUE", value_parser = price::parse_series_arg, required = true)]
        values: Vec<(String, String)>,
    },
    /// Print the newest rows with the change at each.
    List {
        #[arg(long, default_value_t = 10)]
        last: usize,
        #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
        dataset: Option<String>,
    },
    /// Remove the row for a date.
    Remove {
        #[arg(long)]
        date: String,
        #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
        dataset: Option<String>,
    },
}

/// Rewrites `price add`'s `--<series> VALUE` and `--<series>=VALUE` into the
/// `SERIES=VALUE` form clap parses, leaving every flag clap knows alone, so `--help`,
/// `--root` and `--replace` work anywhere on the line. Series names come from the CSV,
/// so they cannot be declared to clap in advance.
pub(crate) fn series_flags_as_pairs(args: Vec<OsString>) -> Vec<OsString> {
    let Some(add) = args
        .windows(2)
        .position(|w| w[0] == "price" && w[1] == "add")
        .map(|i| i + 2)
    else {
        return args;
    };
    const KNOWN: [&str; 6] = ["date", "replace", "dataset", "root", "help", "version"];
    const TAKES_VALUE: [&str; 3] = ["date", "dataset", "root"];
    let mut out: Vec<OsString> = args[..add].to_vec();
    let mut rest = args[add..].iter();
    while let Some(arg) = rest.next() {
        let Some(flag) = arg.to_str().and_then(|a| a.strip_prefix("--")) else {
            out.push(arg.clone());
            continue;
        };
        if flag.is_empty() {
            out.push(arg.clone());
            out.extend(rest.cloned());
            break;
        }
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (flag, None),
        };
        if KNOWN.contains(&name) {
            out.push(arg.clone());
            if value.is_none() && TAKES_VALUE.contains(&name) {
                out.extend(rest.next().cloned());
            }
            continue;
        }
        match value {
            Some(v) => out.push(format!("{name}={v}").into()),
            None => match rest.next() {
                Some(v) => {
                    let mut pair = OsString::from(format!("{name}="));
                    pair.push(v);
                    out.push(pair);
                }
                None => out.push(arg.clone()),
            },
        }
    }
    out
}

pub(crate) fn run(root: &Path, command: Command) -> anyhow::Result<()> {
    let path_of = |dataset| -> anyhow::Result<_> {
        Ok(price::dataset_path(
            root,
            &super::dataset_or_primary(root, dataset)?,
        ))
    };
    match command {
        Command::Add {
            date,
            replace,
            dataset,
            values,
        } => {
            let date = price::parse_date_arg(&date)?;
            let path = path_of(dataset)?;
            print!("{}", price::add(&path, date, &values, replace)?);
            let today = chrono::Local::now().date_naive();
            if let Some(warning) = price::far_ahead_warning(date, today) {
                eprintln!("{warning}");
            }
        }
        Command::List { last, dataset } => {
            print!("{}", price::list(&path_of(dataset)?, last)?);
        }
        Command::Remove { date, dataset } => {
            let date = price::parse_date_arg(&date)?;
            let path = path_of(dataset)?;
            print!("{}", price::remove(&path, date)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(args: &str) -> String {
        let args = args.split(' ').map(OsString::from).collect();
        series_flags_as_pairs(args)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn series_flags_become_pairs_and_known_flags_stay() {
        assert_eq!(
            rewrite("pw price add --date 2026-01-01 --mogas 66.00 --gasoil=72.5 --root x --help"),
            "pw price add --date 2026-01-01 mogas=66.00 gasoil=72.5 --root x --help"
        );
        assert_eq!(
            rewrite("pw price list --mogas 1"),
            "pw price list --mogas 1"
        );
        assert_eq!(rewrite("pw price add --mogas"), "pw price add --mogas");
    }
}
