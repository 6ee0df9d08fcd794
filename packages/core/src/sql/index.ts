export { coalesced } from "../coalesce.js";
export {
  type BatchIo,
  mysqlBatchedRotate,
  postgresBatchedRotate,
  rotationShape,
} from "./batched-rotation.js";
export { type MysqlRotationBatch, mysqlRotationBatch } from "./mysql-rotation-batch.js";
export {
  type PostgresArrayType,
  postgresRotationBatch,
  type RotationBatch,
  type SessionsTableNames,
  UNCHANGED_BY_ROTATION,
} from "./postgres-rotation-batch.js";
