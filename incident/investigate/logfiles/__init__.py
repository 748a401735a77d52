"""A trail's log files, in its S3 bucket or a copy on disk: listed by the layout
CloudTrail writes (only the window's day folders), and searched for the records that
name some keys, on every core. The investigation asks this package for records and
problems; it never reads a log file itself."""

from incident.investigate.logfiles.layout import (
    Listing,
    LogFile,
    LogReadError,
    LogSourceError,
    LogStore,
    Problem,
)
from incident.investigate.logfiles.scan import ScanResult, records_after, scan
from incident.investigate.logfiles.sources import LocalLogs, S3Logs

__all__ = ["Listing", "LocalLogs", "LogFile", "LogReadError", "LogSourceError", "LogStore",
           "Problem", "S3Logs", "ScanResult", "records_after", "scan"]
