//! `netsim-gui [SCENARIO] [--play] [--speed N] [--at EVENT] [--exit-after SECS]`: opens the tutorial
//! (swarm + webapp + MySQL) unless told otherwise. `--exit-after` prints the frame rate the
//! window kept while it ran (the 60 fps check of BENCHMARKS.md) and closes it.

use std::path::PathBuf;

struct Args {
    path: PathBuf,
    play: bool,
    speed: Option<f32>,
    exit_after: Option<f64>,
    at: Option<u64>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        path: PathBuf::from(netsim_gui::app::DEFAULT_SCENARIO),
        play: false,
        speed: None,
        exit_after: None,
        at: None,
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
                    "usage: netsim-gui [SCENARIO.ron] [--play] [--speed EVENTS_PER_S] [--at EVENT] [--exit-after SECONDS]\n\
                     default scenario: {}",
                    netsim_gui::app::DEFAULT_SCENARIO
                );
                std::process::exit(0);
            }
            "--play" => a.play = true,
            "--speed" => a.speed = Some(num("--speed", it.next())? as f32),
            "--exit-after" => a.exit_after = Some(num("--exit-after", it.next())?),
            "--at" => a.at = Some(num("--at", it.next())? as u64),
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
        viewport: egui::ViewportBuilder::default().with_inner_size([1600.0, 1000.0]).with_title("netsim"),
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
