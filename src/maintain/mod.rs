//! The maintainer's commands: editing prices by hand, importing the STC page, and the
//! live-reloading dev server.

pub(crate) mod csv_file;
pub(crate) mod dev;
pub(crate) mod import;
pub(crate) mod page_text;
pub(crate) mod price;
