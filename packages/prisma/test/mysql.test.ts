import { runStoreConformance } from "@tokens/core/testing";
import { openMysql, prepareMysql, suiteFor } from "./support/databases.js";

suiteFor("MYSQL_URL", "MySQL/MariaDB")("prisma: MySQL/MariaDB server", () => {
  runStoreConformance("adapter-mariadb", async () =>
    openMysql(await prepareMysql(process.env.MYSQL_URL as string)),
  );
});
