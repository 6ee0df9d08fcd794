export { coalesced } from "../coalesce.js";
export { postgresBatchedRotate, rotationShape } from "./batched-rotation.js";
export {
  type PostgresArrayType,
  postgresRotationBatch,
  type RotationBatch,
  type SessionsTableNames,
  UNCHANGED_BY_ROTATION,
} from "./postgres-rotation-batch.js";
