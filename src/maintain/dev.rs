//! `petrol-watch dev`: build, serve on localhost, watch the inputs, rebuild on change
//! and tell open pages to reload over server-sent events. A failed rebuild is shown in
//! the terminal and over the page, and the last good site keeps being served (with
//! none yet, a page that waits for the first good build).
//!
//! Pages are exactly what `build` writes; the only difference is a `<script>` tag the
//! dev server adds as it loads them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use crate::serve::{self, AppState, CachePolicy, LoadOptions, StaticSite};
use crate::site::{self, BuildOptions};

pub(crate) const RELOAD_SCRIPT_PATH: &str = "/__petrol_watch/reload.js";
pub(crate) const EVENTS_PATH: &str = "/__petrol_watch/events";

/// Pages in dev mode run one script, from this server.
const DEV_CSP: &str = "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const RELOAD_JS: &str = include_str!("reload.js");

#[derive(Clone, Debug)]
pub(crate) enum DevEvent {
    Reload,
    BuildError(String),
}

#[derive(Clone)]
struct DevState {
    events: broadcast::Sender<DevEvent>,
    last_error: Arc<Mutex<Option<String>>>,
}

pub(crate) struct DevOptions {
    pub(crate) build: BuildOptions,
    pub(crate) out: PathBuf,
    pub(crate) addr: SocketAddr,
    pub(crate) policy: CachePolicy,
}

fn load_options() -> LoadOptions {
    LoadOptions {
        inject_before_body_end: Some(format!("<script src=\"{RELOAD_SCRIPT_PATH}\"></script>\n")),
        page_csp: Some(DEV_CSP),
        ..LoadOptions::default()
    }
}

/// Runs until SIGINT/SIGTERM.
pub(crate) async fn run(options: DevOptions) -> anyhow::Result<()> {
    let first = tokio::task::spawn_blocking({
        let (build, out) = (options.build.clone(), options.out.clone());
        move || site::build(&build, &out)
    })
    .await?;
    let last_error = Arc::new(Mutex::new(None));
    let built = first.is_ok();
    match first {
        Ok(summary) => tracing::info!("built {}: {summary}", options.out.display()),
        Err(e) => {
            eprintln!("error: {e}");
            *last_error.lock().expect("not poisoned") = Some(e.to_string());
        }
    }
    // With no site built yet and this build failed (a fresh clone, a broken pull),
    // serve a page that waits for the first good build rather than exit: it shows the
    // error through the reload script and reloads when a fix builds.
    let _waiting;
    let site = match StaticSite::load(&options.out, &options.policy, &load_options()) {
        Ok(site) => site,
        Err(e) if built => {
            return Err(anyhow::anyhow!(
                "{e}; nothing to serve until the site builds once"
            ))
        }
        Err(_) => {
            let dir = waiting_site()?;
            let site = StaticSite::load(dir.path(), &options.policy, &load_options())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            _waiting = dir;
            site
        }
    };
    let state = AppState::new(site, options.policy, false);
    let (events, _) = broadcast::channel(16);
    let dev = DevState {
        events: events.clone(),
        last_error: last_error.clone(),
    };

    let _watcher = watch(&options, state.clone(), dev.clone())?;
    let app = Router::new()
        .route(RELOAD_SCRIPT_PATH, get(reload_script))
        .route(EVENTS_PATH, get(event_stream))
        .with_state(dev)
        .merge(serve::router(state));
    let listener = serve::bind(options.addr).await?;
    tracing::info!(
        "dev server listening on http://{} (watching for changes; Ctrl-C to stop)",
        listener.local_addr()?
    );
    serve::run(
        listener,
        app,
        serve::Limits::default(),
        serve::shutdown_signal(),
    )
    .await;
    Ok(())
}

/// A folder with one page, served until the first build succeeds.
fn waiting_site() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("petrol-watch-dev-")
        .tempdir()?;
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <title>Waiting for a build</title></head>\n<body>\n<h1>Waiting for a build</h1>\n\
         <p>The site has not built yet; fix the error and this page reloads.</p>\n</body>\n</html>\n",
    )?;
    Ok(dir)
}

async fn reload_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        RELOAD_JS,
    )
}

async fn event_stream(
    State(dev): State<DevState>,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let current = dev.last_error.lock().expect("not poisoned").clone();
    let initial = stream::iter(current.map(|e| Ok(Event::default().event("build-error").data(e))));
    let updates = BroadcastStream::new(dev.events.subscribe()).filter_map(|event| async move {
        match event {
            Ok(DevEvent::Reload) => Some(Ok(Event::default().event("reload").data("reload"))),
            Ok(DevEvent::BuildError(e)) => Some(Ok(Event::default().event("build-error").data(e))),
            Err(_) => None,
        }
    });
    // A comment first, so the client sees the stream open at once.
    let hello = stream::once(async { Ok(Event::default().comment("connected")) });
    Sse::new(hello.chain(initial).chain(updates)).keep_alive(KeepAlive::default())
}

/// Which input folders are watched, each by its identity, so a folder that appears
/// or is replaced after `dev` starts gets watched too.
#[derive(Default)]
struct WatchedFolders(std::collections::HashMap<PathBuf, (u64, u64)>);

impl WatchedFolders {
    fn update(
        &mut self,
        watcher: &mut notify::RecommendedWatcher,
        dirs: &[PathBuf],
    ) -> notify::Result<()> {
        use notify::{RecursiveMode, Watcher};
        use std::os::unix::fs::MetadataExt as _;
        for dir in dirs {
            let Ok(meta) = std::fs::metadata(dir) else {
                self.0.remove(dir);
                continue;
            };
            let identity = (meta.dev(), meta.ino());
            if meta.is_dir() && self.0.get(dir) != Some(&identity) {
                watcher.watch(dir, RecursiveMode::Recursive)?;
                self.0.insert(dir.clone(), identity);
            }
        }
        Ok(())
    }
}

/// The inputs a build reads.
fn watched(root: &Path) -> Vec<PathBuf> {
    ["data", "content", "templates", "static"]
        .iter()
        .map(|d| root.join(d))
        .collect()
}

fn watch(
    options: &DevOptions,
    state: AppState,
    dev: DevState,
) -> anyhow::Result<Arc<Mutex<notify::RecommendedWatcher>>> {
    use notify::{RecursiveMode, Watcher};
    // The watcher names changed files by absolute path whatever it was given, so the
    // paths they are matched against must be absolute too: with a relative root (the
    // default `.`) no change would ever match. Canonical, so that a root reached
    // through a symlink is matched the way the watcher resolves it.
    let root = options
        .build
        .root
        .canonicalize()
        .map_err(|e| anyhow::anyhow!("{}: {e}", options.build.root.display()))?;
    let config_file = root.join(crate::config::FILE_NAME);
    let dirs = watched(&root);
    let (tx, rx) = std::sync::mpsc::channel::<PathBuf>();
    // Only changes count: a build opens and reads every input, and on Linux each open
    // is an event too, so passing those on would start another build after every
    // build, forever (and reload open pages each time).
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            if !matches!(event.kind, notify::EventKind::Access(_)) {
                event.paths.into_iter().for_each(|p| drop(tx.send(p)));
            }
        }
    })?;
    // Editors replace files by renaming; watch the folder, keep only site.toml. Its
    // events also tell when an input folder appears, is removed or is replaced.
    watcher.watch(&root, RecursiveMode::NonRecursive)?;
    let mut folders = WatchedFolders::default();
    folders.update(&mut watcher, &dirs)?;
    let watcher = Arc::new(Mutex::new(watcher));
    let shared = watcher.clone();
    let (build, out, policy) = (options.build.clone(), options.out.clone(), options.policy);
    let handle = tokio::runtime::Handle::current();
    std::thread::spawn(move || {
        // Changes are gathered until none has come for a moment (an editor's save is
        // several events), then built once; but for at most `MAX_GATHER`, so a file
        // rewritten without pause (a log, an autosave) cannot hold a rebuild back for
        // ever. Only whether a change was relevant is kept, not every path. Written
        // here rather than with a debouncing crate: the small one drops the event kinds
        // needed above.
        const QUIET: Duration = Duration::from_millis(150);
        const MAX_GATHER: Duration = Duration::from_secs(1);
        let relevant = |p: &Path| p == config_file || dirs.iter().any(|d| p.starts_with(d));
        while let Ok(first) = rx.recv() {
            let deadline = std::time::Instant::now() + MAX_GATHER;
            let mut any = relevant(&first);
            loop {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                match rx.recv_timeout(QUIET.min(left)) {
                    Ok(path) if !left.is_zero() => any |= relevant(&path),
                    // Past the deadline; what is still queued starts the next batch.
                    Ok(path) => {
                        any |= relevant(&path);
                        break;
                    }
                    Err(_) => break,
                }
            }
            if !any {
                continue;
            }
            // A folder created since (a new site's first note makes `content/`), or
            // replaced (a checkout), is watched before the build reads it.
            if let Err(e) = folders.update(&mut shared.lock().expect("not poisoned"), &dirs) {
                tracing::error!("could not watch a new input folder: {e}");
            }
            let _guard = handle.enter();
            match site::build(&build, &out) {
                // Saved without a change: nothing to load, and open pages reload only to
                // drop a build error they show.
                Ok(summary) if summary.reused == summary.files => {
                    if dev
                        .last_error
                        .lock()
                        .expect("not poisoned")
                        .take()
                        .is_some()
                    {
                        let _ = dev.events.send(DevEvent::Reload);
                    }
                }
                Ok(summary) => match StaticSite::load(&out, &policy, &load_options()) {
                    Ok(site) => {
                        state.site.store(Arc::new(site));
                        *dev.last_error.lock().expect("not poisoned") = None;
                        tracing::info!("rebuilt: {summary}");
                        let _ = dev.events.send(DevEvent::Reload);
                    }
                    Err(e) => tracing::error!("could not load the rebuilt site: {e}"),
                },
                Err(e) => {
                    eprintln!("error: {e}");
                    *dev.last_error.lock().expect("not poisoned") = Some(e.to_string());
                    let _ = dev.events.send(DevEvent::BuildError(e.to_string()));
                }
            }
        }
    });
    Ok(watcher)
}
