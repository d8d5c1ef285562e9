//! Connecting to Step Functions: region, credentials, endpoint, and which
//! state machine the commands act on. Errors name the fix.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sfn::config::Credentials;
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};

use crate::cli::Target;

/// The region local mode uses when nothing else names one.
const LOCAL_REGION: &str = "us-east-1";

/// A connection to AWS or to local mode.
pub(crate) struct Connection {
    pub(crate) sfn: aws_sdk_sfn::Client,
    pub(crate) config: SdkConfig,
    endpoint: Option<String>,
    stack_name: Option<String>,
    state_machine: Option<String>,
}

/// What `samconfig.toml` tells: the stack name and region `sam deploy` used.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct SamConfig {
    pub(crate) stack_name: Option<String>,
    pub(crate) region: Option<String>,
}

impl SamConfig {
    /// Reads the `default` environment of a SAM configuration file; a missing
    /// file is an empty configuration.
    pub(crate) fn read(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", path.display()));
            }
        };
        Self::parse(&text).with_context(|| format!("{} is not valid TOML", path.display()))
    }

    fn parse(text: &str) -> Result<Self> {
        let document: toml::Table = text.parse()?;
        let read = |command: &str, key: &str| {
            document
                .get("default")
                .and_then(|env| env.get(command))
                .and_then(|command| command.get("parameters"))
                .and_then(|parameters| parameters.get(key))
                .and_then(|value| value.as_str())
                .map(str::to_owned)
        };
        Ok(Self {
            stack_name: read("deploy", "stack_name").or_else(|| read("global", "stack_name")),
            region: read("deploy", "region").or_else(|| read("global", "region")),
        })
    }
}

impl Connection {
    pub(crate) async fn new(target: &Target) -> Result<Self> {
        let sam = SamConfig::read(&target.config_file)?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        let endpoint = target.endpoint_url.clone().filter(|url| !url.is_empty());
        if let Some(endpoint) = &endpoint {
            // Local mode accepts any signature; dummy credentials spare the
            // user an AWS profile they may not have.
            loader = loader
                .endpoint_url(endpoint)
                .credentials_provider(Credentials::new(
                    "local",
                    "local",
                    None,
                    None,
                    "hitl-local-mode",
                ));
        }
        if let Some(region) = target.region.clone() {
            loader = loader.region(Region::new(region));
        }
        let mut config = loader.load().await;
        if config.region().is_none() {
            let region = sam
                .region
                .clone()
                .or_else(|| endpoint.as_ref().map(|_| LOCAL_REGION.to_owned()))
                .ok_or_else(|| {
                    anyhow!(
                        "no AWS region: pass --region (the region you deployed to), \
                         or set AWS_REGION, or use --endpoint-url for local mode"
                    )
                })?;
            config = config.into_builder().region(Region::new(region)).build();
        }
        Ok(Self {
            sfn: aws_sdk_sfn::Client::new(&config),
            config,
            endpoint,
            stack_name: target.stack_name.clone().or(sam.stack_name),
            state_machine: target.state_machine.clone(),
        })
    }

    /// The state machine to act on.
    pub(crate) async fn state_machine(&self) -> Result<String> {
        if let Some(arn) = &self.state_machine {
            return Ok(arn.clone());
        }
        if let (None, Some(stack)) = (&self.endpoint, &self.stack_name)
            && let Some(arn) = self.stack_output(stack, "StateMachineArn").await?
        {
            return Ok(arn);
        }
        let machines = self
            .sfn
            .list_state_machines()
            .send()
            .await
            .map_err(|error| self.explain(error, "list state machines"))?;
        match machines.state_machines() {
            [only] => Ok(only.state_machine_arn().to_owned()),
            [] => bail!(
                "no state machine found: deploy the stack (sam deploy --guided), \
                 start local mode, or pass --state-machine ARN"
            ),
            many => bail!(
                "{} state machines found; pass --state-machine with one of: {}",
                many.len(),
                many.iter()
                    .map(|machine| machine.state_machine_arn())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// A CloudFormation stack output, or `None` when the stack has no such output.
    pub(crate) async fn stack_output(&self, stack: &str, key: &str) -> Result<Option<String>> {
        let client = aws_sdk_cloudformation::Client::new(&self.config);
        let stacks = client
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .map_err(|error| {
                self.explain(error, &format!("read the outputs of stack {stack}"))
                    .context("pass --state-machine ARN, or --stack-name with the name you deployed")
            })?;
        Ok(stacks
            .stacks()
            .iter()
            .flat_map(|stack| stack.outputs())
            .find(|output| output.output_key() == Some(key))
            .and_then(|output| output.output_value().map(str::to_owned)))
    }

    /// The ARN of an execution given by name or ARN.
    pub(crate) async fn execution_arn(&self, execution: &str) -> Result<String> {
        if execution.starts_with("arn:") {
            return Ok(execution.to_owned());
        }
        let machine = self.state_machine().await?;
        execution_arn(&machine, execution)
    }

    /// Turns an SDK error into one that says what to do.
    pub(crate) fn explain<E>(&self, error: SdkError<E>, doing: &str) -> anyhow::Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let where_ = self.endpoint.as_deref().unwrap_or("AWS");
        let detail = aws_sdk_sfn::error::DisplayErrorContext(&error).to_string();
        if !matches!(error, SdkError::ServiceError(_)) && detail.contains("credentials") {
            return anyhow!(
                "cannot {doing}: no AWS credentials: configure them (aws configure, or \
                 AWS_PROFILE), or use --endpoint-url http://127.0.0.1:8083 for local mode"
            );
        }
        match &error {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => match &self.endpoint {
                Some(endpoint) => anyhow!(
                    "cannot {doing}: nothing answers at {endpoint}; is local mode running? \
                     (cargo run --release -p hitl -- local)"
                ),
                None => {
                    anyhow!("cannot {doing}: AWS did not answer; check your network and --region")
                }
            },
            SdkError::ServiceError(_) => {
                let code = error.code().unwrap_or("Unknown");
                let message = error.message().unwrap_or("");
                let fix = match code {
                    "UnrecognizedClientException"
                    | "InvalidClientTokenId"
                    | "InvalidSignatureException" => {
                        " (your AWS credentials are not valid here: check the profile and region)"
                    }
                    "ExpiredToken" | "ExpiredTokenException" => {
                        " (your AWS session expired: log in again)"
                    }
                    "AccessDeniedException" | "AccessDenied" => {
                        " (your IAM identity lacks this permission: ask for states:* on this state machine)"
                    }
                    "StateMachineDoesNotExist" => " (check --state-machine and --region)",
                    "ExecutionDoesNotExist" => {
                        " (check the execution name with `hitl pending` or --state-machine)"
                    }
                    _ => "",
                };
                anyhow!("cannot {doing}: {code} from {where_}: {message}{fix}")
            }
            _ => anyhow!("cannot {doing}: {detail}"),
        }
    }
}

/// `arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME` + execution name
/// → `arn:PARTITION:states:REGION:ACCOUNT:execution:NAME:EXECUTION`.
pub(crate) fn execution_arn(state_machine: &str, execution: &str) -> Result<String> {
    let parts: Vec<&str> = state_machine.splitn(7, ':').collect();
    match parts.as_slice() {
        [
            arn,
            partition,
            "states",
            region,
            account,
            "stateMachine",
            name,
        ] => Ok(format!(
            "{arn}:{partition}:states:{region}:{account}:execution:{name}:{execution}"
        )),
        _ => bail!(
            "{state_machine} is not a state machine ARN: pass --state-machine arn:aws:states:...:stateMachine:NAME"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samconfig_gives_stack_name_and_region() {
        let config = SamConfig::parse(
            "version = 0.1\n[default.global.parameters]\nstack_name = \"review\"\n\
             [default.deploy.parameters]\nregion = \"eu-west-1\"\n",
        )
        .unwrap();
        assert_eq!(
            config,
            SamConfig {
                stack_name: Some("review".into()),
                region: Some("eu-west-1".into())
            }
        );
    }

    #[test]
    fn the_repository_samconfig_names_the_stack() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samconfig.toml");
        assert_eq!(
            SamConfig::read(&path).unwrap().stack_name.as_deref(),
            Some("human-review")
        );
    }

    #[test]
    fn execution_arns_derive_from_the_state_machine() {
        assert_eq!(
            execution_arn("arn:aws:states:us-east-1:123:stateMachine:Review", "run-1").unwrap(),
            "arn:aws:states:us-east-1:123:execution:Review:run-1"
        );
        assert!(execution_arn("arn:aws:sns:us-east-1:123:topic", "x").is_err());
    }
}
