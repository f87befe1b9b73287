-- CreateTable
CREATE TABLE "Host" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "lastSeenAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Bench" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "hostId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Bench_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Slot" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "benchId" TEXT NOT NULL,
    "portPath" TEXT NOT NULL,
    "label" TEXT,
    "gridRow" INTEGER,
    "gridCol" INTEGER,
    "state" TEXT NOT NULL DEFAULT 'empty',
    "quarantinedAt" DATETIME,
    "quarantineReason" TEXT,
    "cableReplacedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Slot_benchId_fkey" FOREIGN KEY ("benchId") REFERENCES "Bench" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Device" (
    "ecid" TEXT NOT NULL PRIMARY KEY,
    "udid" TEXT,
    "serialNumber" TEXT,
    "productType" TEXT,
    "hardwareModel" TEXT,
    "chipId" INTEGER,
    "boardId" INTEGER,
    "firstSeenAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Run" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "slotId" TEXT NOT NULL,
    "deviceEcid" TEXT,
    "batchId" TEXT,
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

-- CreateTable
CREATE TABLE "Attempt" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "runId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "startMode" TEXT,
    "lastStage" TEXT,
    "outcome" TEXT NOT NULL DEFAULT 'running',
    "failureClass" TEXT,
    "message" TEXT,
    "evidence" TEXT,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" DATETIME,
    CONSTRAINT "Attempt_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Event" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "kind" TEXT NOT NULL,
    "hostId" TEXT,
    "slotId" TEXT,
    "runId" TEXT,
    "deviceEcid" TEXT,
    "payload" TEXT
);

-- CreateTable
CREATE TABLE "HealthSample" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "slotId" TEXT NOT NULL,
    "deviceEcid" TEXT,
    "batteryLevel" INTEGER,
    "charging" BOOLEAN,
    "linkSpeedMbps" REAL,
    "throughputMBps" REAL,
    "attachCount" INTEGER,
    "detachCount" INTEGER,
    "usbErrorCount" INTEGER,
    "cableScore" INTEGER,
    "details" TEXT,
    CONSTRAINT "HealthSample_slotId_fkey" FOREIGN KEY ("slotId") REFERENCES "Slot" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Firmware" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "buildId" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "productTypes" TEXT NOT NULL,
    "url" TEXT,
    "sha1" TEXT,
    "sha256" TEXT,
    "sizeBytes" BIGINT,
    "localPath" TEXT,
    "signed" BOOLEAN,
    "signedCheckedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Batch" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "firmwareSelector" TEXT NOT NULL,
    "behavior" TEXT NOT NULL DEFAULT 'erase',
    "state" TEXT NOT NULL DEFAULT 'scheduled',
    "scheduledAt" DATETIME,
    "policyOverrides" TEXT,
    "createdBy" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "finishedAt" DATETIME
);

-- CreateTable
CREATE TABLE "BatchBench" (
    "batchId" TEXT NOT NULL,
    "benchId" TEXT NOT NULL,

    PRIMARY KEY ("batchId", "benchId"),
    CONSTRAINT "BatchBench_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "Batch" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "BatchBench_benchId_fkey" FOREIGN KEY ("benchId") REFERENCES "Bench" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "username" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" DATETIME,
    "expiresAt" DATETIME,
    CONSTRAINT "ApiToken_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "Slot_benchId_portPath_key" ON "Slot"("benchId", "portPath");

-- CreateIndex
CREATE INDEX "Run_state_idx" ON "Run"("state");

-- CreateIndex
CREATE INDEX "Run_deviceEcid_idx" ON "Run"("deviceEcid");

-- CreateIndex
CREATE UNIQUE INDEX "Attempt_runId_number_key" ON "Attempt"("runId", "number");

-- CreateIndex
CREATE INDEX "Event_runId_idx" ON "Event"("runId");

-- CreateIndex
CREATE INDEX "Event_slotId_at_idx" ON "Event"("slotId", "at");

-- CreateIndex
CREATE INDEX "HealthSample_slotId_at_idx" ON "HealthSample"("slotId", "at");

-- CreateIndex
CREATE UNIQUE INDEX "Firmware_buildId_url_key" ON "Firmware"("buildId", "url");

-- CreateIndex
CREATE UNIQUE INDEX "User_username_key" ON "User"("username");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_tokenHash_key" ON "ApiToken"("tokenHash");
