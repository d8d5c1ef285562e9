//! HTTP APIs: `AWS::Serverless::HttpApi` and the routes of functions'
//! `HttpApi` events (SAM's implicit `ServerlessHttpApi` among them).

use super::{Loader, Res};
use crate::TemplateError;
use crate::model::{HttpApi, HttpRoute, Stack};
use crate::params::scalar_string;
use crate::resolve::{IMPLICIT_HTTP_API, Resolver};

impl Loader<'_> {
    pub(super) fn http_api(
        &self,
        r: &Resolver<'_>,
        res: &Res<'_>,
    ) -> Result<HttpApi, TemplateError> {
        let identity = r
            .identity(res.id)
            .map_err(|e| TemplateError::resource(res.id, None, e.0))?;
        Ok(HttpApi {
            logical_id: res.id.to_owned(),
            api_id: identity.ref_value,
            endpoint: self.env.http_api_url.clone(),
            stage_name: res
                .opt_string("StageName")?
                .unwrap_or_else(|| "$default".to_owned()),
            routes: Vec::new(),
        })
    }

    /// Adds the routes of the functions' `HttpApi` events to their APIs,
    /// creating SAM's implicit `ServerlessHttpApi` when an event has no `ApiId`.
    pub(super) fn attach_routes(
        &self,
        r: &Resolver<'_>,
        stack: &mut Stack,
    ) -> Result<(), TemplateError> {
        for function in &stack.functions {
            for event in function.events.iter().filter(|e| e.event_type == "HttpApi") {
                let p = &event.properties;
                let err = |message: String| {
                    TemplateError::resource(
                        &function.logical_id,
                        Some("Events"),
                        format!("event {}: {message}", event.name),
                    )
                };
                let api_index = match p.get("ApiId") {
                    Some(api_id) => {
                        let api_id = scalar_string(api_id)
                            .ok_or_else(|| err("ApiId must be !Ref of an HttpApi".to_owned()))?;
                        stack
                            .http_apis
                            .iter()
                            .position(|a| a.api_id == api_id)
                            .ok_or_else(|| {
                                err(format!(
                                    "ApiId {api_id} is not an AWS::Serverless::HttpApi of this template"
                                ))
                            })?
                    }
                    None => match stack
                        .http_apis
                        .iter()
                        .position(|a| a.logical_id == IMPLICIT_HTTP_API)
                    {
                        Some(i) => i,
                        None => {
                            let identity = r.identity(IMPLICIT_HTTP_API).map_err(|e| err(e.0))?;
                            stack.http_apis.push(HttpApi {
                                logical_id: IMPLICIT_HTTP_API.to_owned(),
                                api_id: identity.ref_value,
                                endpoint: self.env.http_api_url.clone(),
                                stage_name: "$default".to_owned(),
                                routes: Vec::new(),
                            });
                            stack.http_apis.len() - 1
                        }
                    },
                };
                let text = |key: &str, default: &str| -> Result<String, TemplateError> {
                    match p.get(key) {
                        None => Ok(default.to_owned()),
                        Some(v) => {
                            scalar_string(v).ok_or_else(|| err(format!("{key} must be a string")))
                        }
                    }
                };
                let route = HttpRoute {
                    method: text("Method", "ANY")?.to_ascii_uppercase(),
                    path: text("Path", "$default")?,
                    function: function.logical_id.clone(),
                    payload_format_version: text("PayloadFormatVersion", "2.0")?,
                };
                if let Some(api) = stack.http_apis.get_mut(api_index) {
                    api.routes.push(route);
                }
            }
        }
        Ok(())
    }
}
