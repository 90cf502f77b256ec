-- D1 schema of seed 000 ("D1 Schema Setup"), applied with
-- `wrangler d1 execute ross-tax-academy-db --file=schema.sql` (add `--local` for the local copy).
-- Key tables for production

CREATE TABLE IF NOT EXISTS enrollments (
  id TEXT PRIMARY KEY,
  student_id TEXT NOT NULL,
  student_name TEXT NOT NULL,
  student_email TEXT NOT NULL,
  program_id TEXT NOT NULL,
  program_name TEXT NOT NULL,
  enrollment_date TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  payment_status TEXT DEFAULT 'pending', -- pending, partial, complete
  total_cost DECIMAL(10,2) NOT NULL,
  status TEXT DEFAULT 'active' -- active, completed, refunded, suspended
);

CREATE TABLE IF NOT EXISTS certificates (
  id TEXT PRIMARY KEY,
  enrollment_id TEXT NOT NULL,
  certificate_code TEXT UNIQUE NOT NULL,
  course_id TEXT NOT NULL,
  student_name TEXT NOT NULL,
  program_name TEXT NOT NULL,
  completion_date TIMESTAMP NOT NULL,
  issue_date TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  pdf_url TEXT,
  qr_code_url TEXT,
  revoked INTEGER DEFAULT 0,
  revocation_reason TEXT,
  revoked_at TIMESTAMP,
  FOREIGN KEY (enrollment_id) REFERENCES enrollments(id)
);

CREATE TABLE IF NOT EXISTS ai_professors (
  id TEXT PRIMARY KEY,
  course_id TEXT NOT NULL,
  professor_name TEXT NOT NULL,
  professor_title TEXT,
  system_prompt TEXT NOT NULL,
  teaching_style TEXT,
  specialization TEXT,
  enabled INTEGER DEFAULT 1,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS class_schedules (
  id TEXT PRIMARY KEY,
  course_id TEXT NOT NULL,
  section_number TEXT NOT NULL,
  time_of_day TEXT NOT NULL, -- 'morning', 'afternoon', 'evening'
  start_time TIME NOT NULL,
  end_time TIME NOT NULL,
  days_of_week TEXT NOT NULL, -- 'MWF', 'TR', etc
  term_id TEXT NOT NULL,
  ai_professor_id TEXT,
  max_students INTEGER DEFAULT 30,
  enrolled_count INTEGER DEFAULT 0,
  status TEXT DEFAULT 'open', -- open, full, cancelled
  FOREIGN KEY (ai_professor_id) REFERENCES ai_professors(id)
);

CREATE TABLE IF NOT EXISTS proctor_sessions (
  id TEXT PRIMARY KEY,
  enrollment_id TEXT NOT NULL,
  exam_id TEXT NOT NULL,
  exam_title TEXT NOT NULL,
  scheduled_time TIMESTAMP NOT NULL,
  session_id TEXT NOT NULL,
  status TEXT DEFAULT 'scheduled', -- scheduled, in_progress, completed, flagged
  recording_url TEXT,
  proctor_notes TEXT,
  exam_score DECIMAL(5,2),
  flagged_for_review INTEGER DEFAULT 0,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (enrollment_id) REFERENCES enrollments(id)
);

CREATE TABLE IF NOT EXISTS google_meet_sessions (
  id TEXT PRIMARY KEY,
  course_id TEXT NOT NULL,
  lesson_id TEXT NOT NULL,
  lesson_title TEXT,
  scheduled_time TIMESTAMP NOT NULL,
  meet_url TEXT NOT NULL,
  recording_url TEXT,
  recording_duration_minutes INTEGER,
  participants_count INTEGER DEFAULT 0,
  status TEXT DEFAULT 'scheduled', -- scheduled, live, completed
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS audit_logs (
  id TEXT PRIMARY KEY,
  user_id TEXT,
  action TEXT NOT NULL,
  resource_type TEXT,
  resource_id TEXT,
  details JSON,
  ip_address TEXT,
  timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- Indexes for performance
CREATE INDEX idx_enrollments_student ON enrollments(student_id);
CREATE INDEX idx_enrollments_program ON enrollments(program_id);
CREATE INDEX idx_certificates_code ON certificates(certificate_code);
