"""The Athena SQL of the playbook: the six queries of the first hours, filled in with
this account's table and partition columns, and the CREATE TABLE (partition projection
on the trail's real S3 location) for an account that has no table yet. Only the key id
is left to type: `KEY_PLACEHOLDER`."""

from __future__ import annotations

from incident.playbook.model import KEY_PLACEHOLDER, Query

DEFAULT_DATABASE = "security_logs"
DEFAULT_TABLE = "cloudtrail_logs"
# a partition column holding CloudTrail's yyyy/MM/dd day, as partition projection names it
DAY_COLUMNS = ("day", "date", "dt")
PERSISTENCE_EVENTS = (
    "AddUserToGroup", "AttachRolePolicy", "AttachUserPolicy", "CreateAccessKey",
    "CreateLoginProfile", "CreatePolicyVersion", "CreateRole", "CreateUser",
    "DeleteAlternateContact", "PutAlternateContact", "PutRolePolicy", "PutUserPolicy",
    "UpdateAssumeRolePolicy", "UpdateLoginProfile",
)
DATA_SOURCES = (
    "dynamodb.amazonaws.com", "kms.amazonaws.com", "s3.amazonaws.com",
    "secretsmanager.amazonaws.com", "ssm.amazonaws.com",
)
SESSION_EVENTS = ("AssumeRole", "GetFederationToken", "GetSessionToken")
WINDOW_DAYS = 30


def _listing(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def window_filter(partition_columns: tuple[str, ...]) -> str:
    """The partition filter of the last 30 days, computed by Athena (no date is written
    into the playbook); "" when the table has no day partition to prune."""
    day = next((c for c in partition_columns if c.lower() in DAY_COLUMNS), "")
    if not day:
        return ""
    return (f"\n  AND {day} >= date_format(current_date - interval '{WINDOW_DAYS}' day, "
            "'%Y/%m/%d')")


def queries(table: str, partition_columns: tuple[str, ...]) -> tuple[Query, ...]:
    key = f"useridentity.accesskeyid = '{KEY_PLACEHOLDER}'"
    where = f"WHERE {key}{window_filter(partition_columns)}"
    return (
        Query("Every call made with the key",
              "SELECT eventtime, awsregion, eventsource, eventname, sourceipaddress, "
              f"useragent, errorcode\nFROM {table}\n{where}\nORDER BY eventtime;"),
        Query("Source IP addresses and user agents",
              "SELECT sourceipaddress, useragent, count(*) AS calls, min(eventtime) AS first,"
              f" max(eventtime) AS last\nFROM {table}\n{where}\n"
              "GROUP BY sourceipaddress, useragent\nORDER BY calls DESC;"),
        Query("Persistence: users, keys, roles, policies and contacts changed",
              "SELECT eventtime, eventname, requestparameters, sourceipaddress\n"
              f"FROM {table}\n{where}\n  AND eventname IN ({_listing(PERSISTENCE_EVENTS)})\n"
              "ORDER BY eventtime;"),
        Query("Data access in sensitive services",
              "SELECT eventtime, eventsource, eventname, requestparameters\n"
              f"FROM {table}\n{where}\n  AND eventsource IN ({_listing(DATA_SOURCES)})\n"
              "ORDER BY eventtime;"),
        Query("Sessions minted with the key (and when they expire)",
              "SELECT eventtime, eventname,\n"
              "  json_extract_scalar(responseelements, '$.credentials.accessKeyId') "
              "AS session_key,\n"
              "  json_extract_scalar(responseelements, '$.credentials.expiration') "
              f"AS expires\nFROM {table}\n{where}\n"
              f"  AND eventname IN ({_listing(SESSION_EVENTS)})\nORDER BY eventtime;"),
        Query("Denied calls (what the attacker tried)",
              "SELECT eventtime, eventsource, eventname, errorcode, errormessage\n"
              f"FROM {table}\n{where}\n  AND errorcode IS NOT NULL\nORDER BY eventtime;"),
    )


def logs_location(bucket: str, key_prefix: str, account_id: str) -> str:
    prefix = f"{key_prefix.strip('/')}/" if key_prefix.strip("/") else ""
    return f"s3://{bucket}/{prefix}AWSLogs/{account_id}/CloudTrail/"


def create_table(database: str, table: str, location: str,
                 regions: tuple[str, ...]) -> str:
    """A CloudTrail table with partition projection over `location`: no partitions to
    load, ever; the region and day columns prune what a query reads."""
    return f"""CREATE DATABASE IF NOT EXISTS {database};

CREATE EXTERNAL TABLE {database}.{table} (
  eventversion STRING,
  useridentity STRUCT<type: STRING, principalid: STRING, arn: STRING,
    accountid: STRING, invokedby: STRING, accesskeyid: STRING, username: STRING,
    sessioncontext: STRUCT<attributes: STRUCT<mfaauthenticated: STRING,
      creationdate: STRING>, sessionissuer: STRUCT<type: STRING, principalid: STRING,
      arn: STRING, accountid: STRING, username: STRING>>>,
  eventtime STRING,
  eventsource STRING,
  eventname STRING,
  awsregion STRING,
  sourceipaddress STRING,
  useragent STRING,
  errorcode STRING,
  errormessage STRING,
  requestparameters STRING,
  responseelements STRING,
  additionaleventdata STRING,
  requestid STRING,
  eventid STRING,
  readonly STRING,
  eventtype STRING,
  recipientaccountid STRING,
  sharedeventid STRING,
  vpcendpointid STRING
)
PARTITIONED BY (region STRING, day STRING)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '{location}'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.region.type' = 'enum',
  'projection.region.values' = '{",".join(regions)}',
  'projection.day.type' = 'date',
  'projection.day.format' = 'yyyy/MM/dd',
  'projection.day.range' = '2020/01/01,NOW',
  'projection.day.interval' = '1',
  'projection.day.interval.unit' = 'DAYS',
  'storage.location.template' = '{location}${{region}}/${{day}}'
);"""


def lookup_events(regions: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"aws cloudtrail lookup-events --region {region} --lookup-attributes "
                 f"AttributeKey=AccessKeyId,AttributeValue={KEY_PLACEHOLDER}"
                 for region in sorted(regions))
