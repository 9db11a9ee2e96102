DROP TABLE dora_commits;
DROP TABLE dora_incidents;
DROP TABLE dora_deployments;
