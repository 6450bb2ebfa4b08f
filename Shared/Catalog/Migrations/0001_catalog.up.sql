-- The platform's catalog: who supplies, who sells, which product belongs to
-- which supplier. PolicyService and InboxService read it; neither owns it.
-- Ids are opaque text (the platform uses UUIDs; tests use readable ids).
CREATE SCHEMA IF NOT EXISTS catalog;

CREATE TABLE catalog.suppliers (
    id          text PRIMARY KEY CHECK (id <> '' AND length(id) <= 128),
    name        text NOT NULL CHECK (name <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalog.sellers (
    id          text PRIMARY KEY CHECK (id <> '' AND length(id) <= 128),
    name        text NOT NULL CHECK (name <> ''),
    -- The seller's commission tier (e.g. BRONZE, SILVER, GOLD); PolicyService
    -- links tiers to policies.
    tier        text NOT NULL CHECK (tier ~ '^[A-Z][A-Z0-9_]{0,31}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalog.products (
    id           text PRIMARY KEY CHECK (id <> '' AND length(id) <= 128),
    supplier_id  text NOT NULL REFERENCES catalog.suppliers (id),
    name         text NOT NULL CHECK (name <> ''),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_supplier_idx ON catalog.products (supplier_id);
