-- Route changes are pushed to the gateways: every committed change of a route, or of an
-- instance that a route may send traffic to, sends a notification on channel `ferry_routes`.
-- Payloads: `host:<hostname>` (that hostname's route changed) and `deployment:<id>` (that
-- deployment's instances changed). PostgreSQL delivers notifications at commit and folds
-- identical ones within a transaction, so a switch of many routes is one burst after commit.
-- (Prisma's schema model has no triggers; its diff ignores them.)

CREATE FUNCTION "ferry_notify_route_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('ferry_routes', 'host:' || OLD."hostname");
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD."hostname" <> NEW."hostname" THEN
    PERFORM pg_notify('ferry_routes', 'host:' || OLD."hostname");
  END IF;
  PERFORM pg_notify('ferry_routes', 'host:' || NEW."hostname");
  RETURN NEW;
END;
$$;

CREATE TRIGGER "frontline_routes_notify"
AFTER INSERT OR UPDATE OR DELETE ON "frontline_routes"
FOR EACH ROW EXECUTE FUNCTION "ferry_notify_route_change"();

CREATE FUNCTION "ferry_notify_instance_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('ferry_routes', 'deployment:' || OLD."deployment_id");
    RETURN OLD;
  END IF;
  PERFORM pg_notify('ferry_routes', 'deployment:' || NEW."deployment_id");
  RETURN NEW;
END;
$$;

CREATE TRIGGER "instances_notify"
AFTER INSERT OR DELETE OR UPDATE OF "status", "host", "port" ON "instances"
FOR EACH ROW EXECUTE FUNCTION "ferry_notify_instance_change"();
