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
mod context;
mod demo;
mod error;
mod feeder;
mod interrupt;
mod pin;
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
        Command::Man => {
            let man = clap_mangen::Man::new(Cli::command());
            let mut out = Vec::new();
            man.render(&mut out)
                .map_err(|e| CliError::Other(format!("man page: {e}")))?;
            use std::io::Write;
            std::io::stdout()
                .write_all(&out)
                .map_err(|e| CliError::Other(e.to_string()))
        }
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(*shell, &mut cmd, "sscard", &mut std::io::stdout());
            Ok(())
        }
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            eprint!("{}", redact_pin_like(&e.render().to_string()));
            std::process::exit(e.exit_code());
        }
    };
    let code = match run(cli) {
        Ok(()) => error::EXIT_OK,
        Err(e) => {
            match &e {
                CliError::Interrupted(msg) => eprintln!("sscard: interrupted: {msg}"),
                _ => eprintln!("sscard: error: {e}"),
            }
            if let Some(hint) = e.hint() {
                eprintln!("sscard: hint: {hint}");
            }
            e.exit_code()
        }
    };
    std::process::exit(code);
}
