//! `AWS::S3::Bucket`.

use super::Res;
use crate::TemplateError;
use crate::model::Bucket;
use crate::resolve::Resolver;

/// An `AWS::S3::Bucket`: its name (`BucketName`, or the lower-case name
/// CloudFormation generates, `stack-logicalid-suffix`) and ARN, as `!Ref`
/// and `!GetAtt B.Arn` give them (resolve/identity.rs). Its other properties
/// (versioning, encryption, notifications, ...) are kept but not applied:
/// local S3 serves none of them.
pub(super) fn bucket(r: &Resolver<'_>, res: &Res<'_>) -> Result<Bucket, TemplateError> {
    let identity = r
        .identity(res.id)
        .map_err(|e| TemplateError::resource(res.id, Some("BucketName"), e.0))?;
    Ok(Bucket {
        logical_id: res.id.to_owned(),
        name: identity.name.clone(),
        arn: identity.attr("Arn").unwrap_or_default().to_owned(),
        properties: res.props.clone(),
    })
}
