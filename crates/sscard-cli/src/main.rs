//! `sscard`: the command-line tool for China's social security card (社会保障卡).
//!
//! See `sscard --help` and docs/cli.md.
#![forbid(unsafe_code)]

mod account;
mod areas;
mod batch;
mod blocklist;
mod cardstate;
mod cli;
mod commands;
mod completion;
mod context;
mod demo;
mod error;
mod feeder;
mod interrupt;
mod output;
mod pin;
mod progress;
mod serve;
mod simulated;

use clap::{CommandFactory, Parser};

use cli::{Cli, Command, KeysCommand, SimCommand};
use error::{CliError, CliResult};

fn run(cli: Cli) -> CliResult<()> {
    let g = &cli.global;
    match &cli.command {
        Command::Readers => commands::readers(g),
        Command::Read(a) if a.areas.requested() => areas::read(g, a),
        Command::Read(a) => commands::read(g, a),
        Command::Write(a) => areas::write(g, a),
        Command::Personalize(a) if areas::person_has_areas(&a.person) => areas::personalize(g, a),
        Command::Personalize(a) => commands::personalize(g, a),
        Command::Batch(a) => batch::run(g, a),
        Command::Activate(a) => commands::activate(g, a),
        Command::Pin(a) => {
            blocklist::check_before(g, &a.blocklist, "the PIN operation")?;
            commands::pin_command(g, &a.command)
        }
        Command::Block(a) => commands::block(g, a),
        Command::Unblock(_) => commands::unblock_removed(),
        Command::BankAccount => commands::bank_account(g),
        Command::Apdu(a) => commands::apdu(g, a),
        Command::Sim(SimCommand::New(a)) => simulated::sim_new(g, a),
        Command::Sim(SimCommand::NewPsam(a)) => simulated::sim_new_psam(g, a),
        Command::Sim(SimCommand::Convert(a)) => simulated::sim_convert(g, a),
        Command::Sim(SimCommand::Serve(a)) => serve::sim_serve(g, a),
        Command::Keys(KeysCommand::New(a)) => simulated::keys_new(g, a),
        Command::Keys(KeysCommand::NewStation(a)) => batch::new_station_key(g, a),
        Command::Blocklist(c) => blocklist::run(g, c),
        Command::Account(c) => account::run(g, c),
        Command::Demo => demo::demo(g),
        Command::Man(a) => man(a),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(*shell, &mut cmd, "sscard", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// `sscard man [SUBCOMMAND…] [--out-dir DIR]`: the page of sscard or of one subcommand, or
/// every page into a folder.
fn man(args: &cli::ManArgs) -> CliResult<()> {
    let mut cmd = Cli::command();
    cmd.build();
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).map_err(|e| error::io_err("cannot create", dir, e))?;
        clap_mangen::generate_to(cmd, dir)
            .map_err(|e| error::io_err("cannot write the man pages into", dir, e))?;
        progress::note(format!("man pages written into {}", dir.display()));
        return Ok(());
    }
    let mut page = cmd;
    let mut name = "sscard".to_owned();
    for word in &args.command {
        page = page
            .find_subcommand(word)
            .cloned()
            .ok_or_else(|| CliError::Usage(format!("`{name} {word}`: no such subcommand")))?;
        name = format!("{name}-{word}");
    }
    let page = page.name(name);
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| CliError::Other(format!("man page: {e}")))?;
    use std::io::Write;
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| CliError::Other(e.to_string()))
}

/// Whether the command line asks for JSON output (read before it is parsed, for errors of
/// parsing itself).
fn json_requested() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.iter().enumerate().any(|(i, a)| {
        a == "--output-format=json"
            || (a == "--output-format" && args.get(i + 1).is_some_and(|v| v == "json"))
    })
}

/// Prints the JSON error document (`sscard.error/1`) on stdout.
fn print_error_document(code: i32, message: &str, hint: Option<&str>) {
    let document = sscard_cli::documents::ErrorDocument {
        code: error::code_name(code).to_owned(),
        exit_code: code,
        message: message.to_owned(),
        hint: hint.map(str::to_owned),
    };
    if let Ok(text) = sscard_cli::documents::to_json_pretty(&document) {
        println!("{text}");
    }
}

/// Replaces in `text` every run of 4 to 16 digits that appears in a command-line argument:
/// a PIN typed as an argument by mistake is never repeated in an error message.
fn redact_pin_like(text: &str) -> String {
    let mut out = text.to_owned();
    for arg in std::env::args().skip(1) {
        for run in arg.split(|c: char| !c.is_ascii_digit()) {
            if (4..=16).contains(&run.len()) {
                out = out.replace(run, "REDACTED");
            }
        }
    }
    out
}

fn main() {
    // before anything holds a key or a PIN
    context::harden_process();
    // `COMPLETE=bash sscard` (and zsh, fish, elvish, powershell): dynamic completion, reader
    // names from PC/SC included; otherwise this returns at once
    clap_complete::CompleteEnv::with_factory(Cli::command).complete();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let text = redact_pin_like(&e.render().to_string());
            eprint!("{text}");
            if json_requested() {
                let message = text.lines().next().unwrap_or_default();
                let message = message.strip_prefix("error: ").unwrap_or(message);
                print_error_document(e.exit_code(), message, None);
            }
            std::process::exit(e.exit_code());
        }
    };
    progress::set_level(cli.global.quiet, cli.global.verbose);
    let json = cli.global.output_format == cli::OutputFormat::Json;
    let code = match run(cli) {
        Ok(()) => error::EXIT_OK,
        Err(e) => {
            match &e {
                CliError::Interrupted(msg) => eprintln!("sscard: interrupted: {msg}"),
                _ => eprintln!("sscard: error: {e}"),
            }
            let hint = e.hint();
            if let Some(hint) = &hint {
                eprintln!("sscard: hint: {hint}");
            }
            if json && !output::document_printed() {
                let message = match &e {
                    CliError::Interrupted(msg) => format!("interrupted: {msg}"),
                    _ => e.to_string(),
                };
                print_error_document(e.exit_code(), &message, hint.as_deref());
            }
            e.exit_code()
        }
    };
    std::process::exit(code);
}
