//! The `corepy` binary (the Python package installs the same CLI as a script).

fn main() {
    let args = std::env::args().collect();
    let code = corepy_sql::cli::run(
        args,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
        &mut || false,
    );
    std::process::exit(code);
}
