//! `netsim-gui [SCENARIO] [--play] [--speed N] [--at EVENT] [--size WxH] [--exit-after SECS]`:
//! opens the tutorial (swarm + webapp + MySQL) unless told otherwise. `--size` sets the
//! window's size (1600x1000 by default), to see the layout as a smaller screen shows it.
//! `--exit-after` prints the frame rate the window kept while it ran (the 60 fps check of
//! BENCHMARKS.md) and closes it.

use std::path::PathBuf;

struct Args {
    path: PathBuf,
    play: bool,
    speed: Option<f32>,
    exit_after: Option<f64>,
    at: Option<u64>,
    size: [f32; 2],
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
                    "usage: netsim-gui [SCENARIO.ron] [--play] [--speed EVENTS_PER_S] [--at EVENT] [--size WxH] [--exit-after SECONDS]\n\
                     default scenario: {}",
                    netsim_gui::app::DEFAULT_SCENARIO
                );
                std::process::exit(0);
            }
            "--play" => a.play = true,
            "--speed" => a.speed = Some(num("--speed", it.next())? as f32),
            "--exit-after" => a.exit_after = Some(num("--exit-after", it.next())?),
            "--at" => a.at = Some(num("--at", it.next())? as u64),
            "--size" => a.size = size(it.next())?,
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
            let mut app = netsim_gui::NetsimApp::open(&args.path);
            app.view.playing = args.play;
            if let Some(s) = args.speed {
                app.view.speed = s;
            }
            app.exit_after = args.exit_after;
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
