project_id          = "meridian-mfg-copilot"
environment         = "prod"
plant_code          = "RVB01"
cost_center         = "cc-4120-mfg-digital"
owner               = "copilot-platform"
deletion_protection = false
sql_tier            = "db-custom-2-7680"
