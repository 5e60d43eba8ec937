"""Analytics (optional module): Athena over the table's exports in the region's data bucket.

Built in both regions: the primary's data bucket, exports included, replicates to the
secondary's, so each region can query its own copy (the secondary's keeps working when the
primary is down), and an idle workgroup and catalog cost nothing.

DynamoDB's export to S3 (``aws dynamodb export-table-to-point-in-time ... --s3-prefix exports``)
writes ``exports/AWSDynamoDB/<export id>/data/*.json.gz``: gzipped JSON lines, one
``{"Item": {<attribute>: {<type>: <value>}}}`` per item. The Glue table reads exactly that, with
the export id as an injected partition: every export is a full snapshot, so a query names the
one it reads (``WHERE export_id = '...'``) and never counts an item once per export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from constructs import Construct

from tapinfra.config import AnalyticsConfig, StorageConfig
from tapinfra.constructs.bucket import SecureBucket
from tapinfra.constructs.packaging import terraform_literal
from tapinfra.modules.analytics import EXPORT_TABLE
from tapinfra.protection import Protection
from tapinfra.provider import aws
from tapinfra.region import Region

EXPORTS_PREFIX = "exports/"
EXPORT_PARTITION = "export_id"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"


def item_column_type(attributes: Mapping[str, str]) -> str:
    """The ``item`` column: DynamoDB JSON, one struct per stored attribute (the application's
    document declares them), its value as text (numbers too: CAST them; maps stay JSON text
    for json_extract)."""
    fields = ",".join(f"{name}:struct<{kind.lower()}:string>" for name, kind in attributes.items())
    return f"struct<{fields}>"


@dataclass(frozen=True)
class AnalyticsProps:
    """What one region's analytics are built from.

    :param region: where the workgroup and catalog live (provider, namer, key). Required.
    :param settings: the ``analytics`` section: the scan limit, how long results stay. Required.
    :param storage: the ``storage`` section, for the results bucket. Required.
    :param data_bucket: the region's data bucket (the exports' home, or their replica). Required.
    :param log_bucket: the region's access-log bucket, for the results bucket's access logs. Required.
    :param table_attributes: what an item holds (name -> DynamoDB type), from the application's
        document: the Glue table's ``item`` column. Required.
    :param protection: the deployment's :class:`~tapinfra.protection.Protection`: when disposable,
        the workgroup and the results bucket are deleted with what they hold. Default: protected.
    """

    region: Region
    settings: AnalyticsConfig
    storage: StorageConfig
    data_bucket: SecureBucket
    log_bucket: SecureBucket
    table_attributes: Mapping[str, str]
    protection: Protection = Protection()


@dataclass(frozen=True)
class AnalyticsResult:
    """What the outputs need of one region's analytics (tokens, and the results bucket)."""

    workgroup_name: str
    database_name: str
    table_name: str
    results_bucket: SecureBucket


class Analytics(Construct):
    """``workgroup`` (enforced settings: SSE_KMS results with the region's key in ``results_bucket``,
    a scan limit per query, CloudWatch metrics), ``database`` and ``table`` over the data bucket's
    exports, from :class:`AnalyticsProps`; ``result`` is what others may use.
    """

    def __init__(self, scope: Construct, id_: str, props: AnalyticsProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        region, settings, protection = props.region, props.settings, props.protection
        p, namer = region.provider, region.namer
        # Query results are a cache of what the exports hold: kept briefly, never transitioned.
        self.results_bucket = SecureBucket(
            self, "results", region=region, name=namer.name("athena-results", "s3"), storage=props.storage,
            log_bucket=props.log_bucket, expiration_days=settings.results_expiration_days, transitions=False,
            protection=protection,
        )
        wg = aws.athena_workgroup
        self.workgroup = wg.AthenaWorkgroup(
            self, "workgroup", provider=p,
            name=namer.name("analytics", "athena_workgroup"),
            description="Queries over the item table's exports; its settings override the client's.",
            state="ENABLED",
            force_destroy=protection.force_destroy,
            configuration=wg.AthenaWorkgroupConfiguration(
                enforce_workgroup_configuration=True,
                publish_cloudwatch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=settings.bytes_scanned_cutoff_per_query,
                result_configuration=wg.AthenaWorkgroupConfigurationResultConfiguration(
                    output_location=f"s3://{self.results_bucket.name}/results/",
                    expected_bucket_owner=region.account_id,
                    encryption_configuration=wg.AthenaWorkgroupConfigurationResultConfigurationEncryptionConfiguration(
                        encryption_option="SSE_KMS", kms_key_arn=region.key.arn),
                ),
            ),
        )
        self.database = aws.glue_catalog_database.GlueCatalogDatabase(
            self, "database", provider=p,
            name=namer.name("analytics", "glue_database").replace("-", "_"),
            description="tapinfra analytics: the item table's exports to S3.",
        )
        database_name = self.database.name
        exports = f"s3://{props.data_bucket.name}/{EXPORTS_PREFIX}"
        t = aws.glue_catalog_table
        self.table = t.GlueCatalogTable(
            self, "items-export", provider=p,
            name=EXPORT_TABLE,
            database_name=database_name,
            description="DynamoDB exports to S3 (DYNAMODB_JSON): one row per item per export; name the export_id.",
            table_type="EXTERNAL_TABLE",
            parameters={
                "classification": "json",
                "compressionType": "gzip",
                "typeOfData": "file",
                "projection.enabled": "true",
                f"projection.{EXPORT_PARTITION}.type": "injected",
                # Athena fills in the export id; Terraform must leave "${...}" alone.
                "storage.location.template": f"{exports}AWSDynamoDB/{terraform_literal('${' + EXPORT_PARTITION + '}')}/data/",
            },
            partition_keys=[t.GlueCatalogTablePartitionKeys(
                name=EXPORT_PARTITION, type="string", comment="The export's id: exports/AWSDynamoDB/<export_id>/")],
            storage_descriptor=t.GlueCatalogTableStorageDescriptor(
                location=exports,
                input_format="org.apache.hadoop.mapred.TextInputFormat",
                output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                compressed=True,
                ser_de_info=t.GlueCatalogTableStorageDescriptorSerDeInfo(
                    name="dynamodb-json", serialization_library=JSON_SERDE),
                columns=[t.GlueCatalogTableStorageDescriptorColumns(
                    name="item", type=item_column_type(props.table_attributes), comment="The item as DynamoDB JSON (the export's Item).")],
            ),
        )
        self.result = AnalyticsResult(workgroup_name=self.workgroup.name, database_name=database_name,
                                      table_name=self.table.name, results_bucket=self.results_bucket)
