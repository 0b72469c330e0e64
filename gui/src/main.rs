//! `netsim-gui [SCENARIO] [--play] [--speed N] [--at EVENT] [--size WxH] [--exit-after SECS]`:
//! opens the tutorial (swarm + webapp + MySQL) unless told otherwise. `--size` sets the
//! window's size (1600x1000 by default), to see the layout as a smaller screen shows it.
//! `--exit-after` prints the frame rate the window kept while it ran (the 60 fps check of
//! BENCHMARKS.md) and closes it. `--seek-bench N` opens no window: it runs the scenario to
//! its end as the GUI does, then goes to N events spread over the run, back and forth, and
//! prints how long each took (BENCHMARKS.md, *The GUI on a long run*).

use std::path::PathBuf;

struct Args {
    path: PathBuf,
    play: bool,
    speed: Option<f32>,
    exit_after: Option<f64>,
    at: Option<u64>,
    size: [f32; 2],
    seek_bench: Option<u64>,
    light: bool,
    no_challenge: bool,
}

/// `1280x800` → [1280, 800].
fn size(v: Option<String>) -> Result<[f32; 2], String> {
    let v = v.ok_or("--size needs WIDTHxHEIGHT, e.g. 1280x800")?;
    let parsed = v.split_once('x').and_then(|(w, h)| Some([w.parse::<f32>().ok()?, h.parse::<f32>().ok()?]));
    parsed
        .filter(|s| s.iter().all(|x| (200.0..=20_000.0).contains(x)))
        .ok_or(format!("--size {v}: not WIDTHxHEIGHT of at least 200x200"))
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        path: PathBuf::from(netsim_gui::app::DEFAULT_SCENARIO),
        play: false,
        speed: None,
        exit_after: None,
        at: None,
        size: [1600.0, 1000.0],
        seek_bench: None,
        light: false,
        no_challenge: false,
    };
    let mut it = std::env::args().skip(1);
    let num = |flag: &str, v: Option<String>| -> Result<f64, String> {
        let v = v.ok_or(format!("{flag} needs a number"))?;
        v.parse::<f64>().ok().filter(|x| *x > 0.0).ok_or(format!("{flag} {v}: not a positive number"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                println!(
                    "usage: netsim-gui [SCENARIO.ron] [--play] [--speed EVENTS_PER_S] [--at EVENT] [--size WxH] [--light] [--no-challenge] [--exit-after SECONDS] [--seek-bench N]\n\
                     keys: space play/pause, \u{2190}/\u{2192} step, Home/End, F fit the topology\n\
                     default scenario: {}",
                    netsim_gui::app::DEFAULT_SCENARIO
                );
                std::process::exit(0);
            }
            "--play" => a.play = true,
            "--light" => a.light = true,
            "--no-challenge" => a.no_challenge = true,
            "--speed" => a.speed = Some(num("--speed", it.next())? as f32),
            "--exit-after" => a.exit_after = Some(num("--exit-after", it.next())?),
            "--at" => a.at = Some(num("--at", it.next())? as u64),
            "--size" => a.size = size(it.next())?,
            "--seek-bench" => a.seek_bench = Some(num("--seek-bench", it.next())? as u64),
            s if s.starts_with('-') => return Err(format!("unknown option {s} (see --help)")),
            s => a.path = PathBuf::from(s),
        }
    }
    Ok(a)
}

fn main() -> std::process::ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("netsim-gui: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if let Some(n) = args.seek_bench {
        return seek_bench(&args.path, n);
    }
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size(args.size).with_title("netsim"),
        // egui's colours are flat: dithering only added per-pixel work on software GL.
        dithering: false,
        ..Default::default()
    };
    let r = eframe::run_native(
        "netsim",
        options,
        Box::new(move |cc| {
            netsim_gui::app::unfill_panels(&cc.egui_ctx);
            if args.light {
                cc.egui_ctx.set_theme(egui::Theme::Light);
            }
            let mut app = netsim_gui::NetsimApp::open(&args.path);
            app.view.playing = args.play;
            if let Some(s) = args.speed {
                app.view.speed = s;
            }
            app.exit_after = args.exit_after;
            if let (true, Some(s)) = (args.no_challenge, app.session.as_mut()) {
                s.challenge.on = false;
            }
            if let (Some(n), Some(s)) = (args.at, app.session.as_mut()) {
                s.go_to(n);
            }
            Ok(Box::new(app))
        }),
    );
    match r {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netsim-gui: cannot open a window: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The model's side of moving about a long run: open, run to the end, then `n` jumps to
/// events spread over the run in an order that goes back as often as forward; each jump's
/// wall time (the first frame painted afterwards is what `--exit-after` measures).
fn seek_bench(path: &std::path::Path, n: u64) -> std::process::ExitCode {
    use std::time::Instant;
    let t0 = Instant::now();
    let mut s = match netsim_gui::state::Session::open(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("netsim-gui: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Moving about, not answering: a quiz item would stop the run where it is asked.
    s.challenge.on = false;
    while !s.at_end() {
        s.run_to_end();
    }
    let (total, opened) = (s.position(), t0.elapsed());
    let mut ms: Vec<f64> = Vec::new();
    // A fixed walk: multiplying by a unit modulo the run visits positions all over it.
    let mut k: u64 = 1;
    for _ in 0..n {
        k = (k * 48_271) % 2_147_483_647;
        let to = k % (total + 1);
        let t = Instant::now();
        s.go_to(to);
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        if s.position() != to {
            eprintln!("netsim-gui: went to {} instead of {to}", s.position());
            return std::process::ExitCode::FAILURE;
        }
    }
    ms.sort_by(f64::total_cmp);
    let q = |p: f64| ms.get(((ms.len() - 1) as f64 * p) as usize).copied().unwrap_or(0.0);
    println!(
        "netsim-gui seek: events={total} open+run_s={:.2} seeks={n} min_ms={:.2} median_ms={:.2} p95_ms={:.2} max_ms={:.2}",
        opened.as_secs_f64(),
        q(0.0),
        q(0.5),
        q(0.95),
        q(1.0)
    );
    std::process::ExitCode::SUCCESS
}
