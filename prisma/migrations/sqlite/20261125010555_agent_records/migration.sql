-- AlterTable
ALTER TABLE "Slot" ADD COLUMN "detail" TEXT;
ALTER TABLE "Slot" ADD COLUMN "deviceEcid" TEXT;
ALTER TABLE "Slot" ADD COLUMN "runId" TEXT;

-- AlterTable
ALTER TABLE "Event" ADD COLUMN "streamId" TEXT;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Run" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "slotId" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "portPath" TEXT NOT NULL,
    "deviceEcid" TEXT,
    "batchId" TEXT,
    "policy" TEXT NOT NULL DEFAULT 'default',
    "attemptCount" INTEGER NOT NULL DEFAULT 0,
    "firmwareBuild" TEXT,
    "firmwareSelector" TEXT NOT NULL,
    "behavior" TEXT NOT NULL DEFAULT 'erase',
    "state" TEXT NOT NULL DEFAULT 'queued',
    "lastStage" TEXT,
    "failureClass" TEXT,
    "failureMessage" TEXT,
    "fromVersion" TEXT,
    "toVersion" TEXT,
    "operator" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    CONSTRAINT "Run_slotId_fkey" FOREIGN KEY ("slotId") REFERENCES "Slot" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "Run_deviceEcid_fkey" FOREIGN KEY ("deviceEcid") REFERENCES "Device" ("ecid") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Run_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "Batch" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Run" ("batchId", "behavior", "createdAt", "deviceEcid", "failureClass", "failureMessage", "finishedAt", "firmwareBuild", "firmwareSelector", "fromVersion", "id", "lastStage", "operator", "slotId", "startedAt", "state", "toVersion") SELECT "batchId", "behavior", "createdAt", "deviceEcid", "failureClass", "failureMessage", "finishedAt", "firmwareBuild", "firmwareSelector", "fromVersion", "id", "lastStage", "operator", "slotId", "startedAt", "state", "toVersion" FROM "Run";
DROP TABLE "Run";
ALTER TABLE "new_Run" RENAME TO "Run";
CREATE INDEX "Run_state_idx" ON "Run"("state");
CREATE INDEX "Run_deviceEcid_idx" ON "Run"("deviceEcid");
CREATE INDEX "Run_hostId_portPath_idx" ON "Run"("hostId", "portPath");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "Event_streamId_key" ON "Event"("streamId");
