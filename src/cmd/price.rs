//! `price add|list|remove`: the maintainer's hand edits of a dataset.

use std::path::Path;

use crate::maintain::price;

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Add a row: `price add --date 2026-12-01 --mogas 66.00 --gasoil 72.50`.
    Add {
        /// The decision date, YYYY-MM-DD.
        #[arg(long)]
        date: Option<String>,
        /// Change the row if the date already has one.
        #[arg(long)]
        replace: bool,
        /// Dataset (file name in data/ without .csv); default: site.toml's primary_dataset.
        #[arg(long)]
        dataset: Option<String>,
        /// One value per series, by column name: --mogas 66.00 --gasoil 72.50.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "--SERIES VALUE"
        )]
        values: Vec<String>,
    },
    /// Print the newest rows with the change at each.
    List {
        #[arg(long, default_value_t = 10)]
        last: usize,
        #[arg(long)]
        dataset: Option<String>,
    },
    /// Remove the row for a date.
    Remove {
        #[arg(long)]
        date: String,
        #[arg(long)]
        dataset: Option<String>,
    },
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
            mut replace,
            dataset,
            values,
        } => {
            // Flags given after the series values arrive with them.
            let mut rest = Vec::new();
            for v in values {
                if v == "--replace" {
                    replace = true;
                } else {
                    rest.push(v);
                }
            }
            let mut pairs = price::series_pairs(&rest)?;
            let mut take = |name: &str| {
                pairs
                    .iter()
                    .position(|(n, _)| n == name)
                    .map(|i| pairs.remove(i).1)
            };
            let date = date
                .or_else(|| take("date"))
                .ok_or_else(|| anyhow::anyhow!("--date is required"))?;
            let dataset = dataset.or_else(|| take("dataset"));
            let path = path_of(dataset)?;
            print!(
                "{}",
                price::add(&path, price::parse_date_arg(&date)?, &pairs, replace)?
            );
        }
        Command::List { last, dataset } => {
            print!("{}", price::list(&path_of(dataset)?, last)?);
        }
        Command::Remove { date, dataset } => {
            let path = path_of(dataset)?;
            print!("{}", price::remove(&path, price::parse_date_arg(&date)?)?);
        }
    }
    Ok(())
}
