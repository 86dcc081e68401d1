//! The maintainer's commands: editing prices by hand, importing the STC page, and the
//! live-reloading dev server.

pub mod csv_file;
pub mod dev;
pub mod import;
pub mod price;
