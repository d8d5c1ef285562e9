//! The commands: `run` dispatches each to its module.
//!
//! - `start`: `hitl start`;
//! - `answer`: `hitl pending`, `approve`, `reject`;
//! - `operate`: `hitl cancel`, `redrive`, `status`;
//! - `check`: `hitl check`;
//! - `read`: what they share — an execution's description and history, times, tables.

mod answer;
mod check;
mod operate;
mod read;
mod start;

use anyhow::{Result, bail};

use crate::cli::{Cli, Command};
use crate::connect::Connection;
use answer::{pending, respond};
use check::{check, check_definitions};
use operate::{cancel, redrive, status};
use read::*;
use start::start;

const NO_TOKEN: &str = "say which review to answer: give the task token (the text after \
                        'Task token:' in the email), or --execution NAME (see `hitl pending`)";

pub(crate) async fn run(cli: Cli) -> Result<()> {
    if let Command::Local(args) = &cli.command {
        return crate::local::run(args, &cli.target).await;
    }
    if let Command::Approve(answer) | Command::Reject(answer) = &cli.command
        && answer.token.is_none()
        && answer.execution.is_none()
    {
        bail!(NO_TOKEN);
    }
    if let Command::Check {
        template,
        parameter_overrides,
        ..
    } = &cli.command
        && !check_definitions(template.as_deref(), parameter_overrides, &cli.target)?
    {
        return Ok(());
    }
    let connection = Connection::new(&cli.target).await?;
    match cli.command {
        Command::Local(_) => Ok(()),
        Command::Start { input, name } => start(&connection, &input, name).await,
        Command::Pending => pending(&connection).await,
        Command::Approve(answer) => respond(&connection, answer, true).await,
        Command::Reject(answer) => respond(&connection, answer, false).await,
        Command::Cancel { execution } => cancel(&connection, &execution).await,
        Command::Status { execution } => status(&connection, &execution).await,
        Command::Redrive { execution } => redrive(&connection, &execution).await,
        Command::Check {
            topic_arn,
            reviewers,
            ..
        } => check(&connection, topic_arn, reviewers).await,
    }
}
